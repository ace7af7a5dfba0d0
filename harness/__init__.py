"""The local test platform the collection's tests, benchmarks and demo run on - a product of its own, with its
own tests (harness/tests): a control plane built from Go modules (controlplane/), the platform layer a real ArgoCD
syncs on (platform/), the local Cloudflare API server (cloudflare/), the tool builds (builds/), the molecule image
(images/), the benchmarks (bench/), and the helpers that run playbooks (playbooks.py), write inventories
(inventory.py) and read the cluster (kube.py) the way tests need."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The upstream material no registry here serves (chart archives, sources): the folder beside the checkout, or
# APHEX_SHARED (tools/prerequisites.sh checks it is there before make demo or make test start).
SHARED = Path(os.environ.get("APHEX_SHARED", REPO.parent / "shared"))
