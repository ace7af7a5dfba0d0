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


def _import_the_collection_from_the_checkout() -> None:
    """ansible_collections.aphex.platform... resolves to this checkout, as Ansible resolves it (`make setup` links
    it under .collections/), for every program of the harness and every test."""
    collections = REPO / ".collections"
    try:
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    except ImportError:
        return  # outside the toolchain's virtualenv (`make cluster-down` before `make setup`): the control plane alone
    if (collections / "ansible_collections" / "aphex" / "platform").exists():
        _AnsibleCollectionFinder(paths=[str(collections)])._install()  # pylint: disable=protected-access


_import_the_collection_from_the_checkout()
