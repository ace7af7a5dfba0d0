#!/usr/bin/env bash
# `make demo`: bootstrap.yml against the local control plane with inventories/demo. The control plane has no
# nodes, so no pod runs: ArgoCD is installed (its real v3.6.1 manifest, from the controller-local cache) and the
# root Application is created, but nothing syncs it. The APIs the tenants need (aphex.io, Tekton, External
# Secrets) would come from platform apps; here they are installed directly, as in the integration tests. The
# local Cloudflare server stands in for Cloudflare.
set -euo pipefail
state="${1:-.cluster}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
python -m tests.controlplane status --state-dir "$state"
kubectl="$(python -m tests.controlplane build)/kubectl"
bash tests/argocd/fetch-argocd.sh v3.6.1 >/dev/null

# The local Cloudflare server keeps its state in memory, so it stays up between demo runs (a re-run then changes
# nothing); `make cluster-down` stops it.
port="${APHEX_DEMO_CLOUDFLARE_PORT:-8787}"
if ! { [[ -f "$state/cloudflare.pid" ]] && kill -0 "$(cat "$state/cloudflare.pid")" 2>/dev/null; }; then
  nohup python -m tests.cloudflare_fake.server --port "$port" --token demo-token --zone demo.aphex.test \
    >"$state/cloudflare.log" 2>&1 &
  echo $! > "$state/cloudflare.pid"
  for _ in $(seq 50); do grep -q "fake Cloudflare at" "$state/cloudflare.log" && break; sleep 0.1; done
fi

for manifest in files/crds/*.yaml files/rbac/*.yaml tests/integration/fixtures/crds/*.yaml; do
  [[ "$manifest" == *argoproj* ]] && continue
  "$kubectl" --kubeconfig "$state/admin.kubeconfig" apply --server-side --field-manager=aphex-demo -f "$manifest" >/dev/null
done
"$kubectl" --kubeconfig "$state/admin.kubeconfig" wait --for=condition=Established crd --all --timeout=60s >/dev/null

APHEX_DEMO_CLOUDFLARE_PORT="$port" ansible-playbook playbooks/bootstrap.yml -i inventories/demo "${@:2}"
echo
echo "Next: kubectl=$kubectl; \$kubectl --kubeconfig $state/admin.kubeconfig -n argocd get applications"
echo "      ansible-playbook playbooks/bootstrap.yml -i inventories/demo   # again: changes nothing"
echo "      make cluster-down   # stops exactly what cluster-up started"
