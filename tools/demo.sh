#!/usr/bin/env bash
# `make demo`: bootstrap.yml against the local control plane and its platform stack (harness/platform/stack.py),
# with inventories/demo. A real ArgoCD (its v3.6.1 manifest from the controller-local cache, its controller and
# repo-server as local processes) syncs every app of the kind catalog from the chart mirror on loopback, KWOK
# plays the nodes and pods, and the bootstrap waits wave by wave until each is Synced and Healthy, then onboards
# the demo tenants. The local Cloudflare server stands in for Cloudflare.
set -euo pipefail
state="${1:-.cluster}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# One Python process (it is most of what a second run spends outside the playbook): the stack up, or already up,
# and where its pieces are.
read -r mirror releases bin git_server < <(python -m harness.platform up --state-dir "$state" --paths)
kubectl="$bin/kubectl"
bash harness/builds/fetch-argocd.sh v3.6.1 >/dev/null

# The local Cloudflare server keeps its state in memory, so it stays up between demo runs (a re-run then changes
# nothing); `make cluster-down` stops it.
port="${APHEX_DEMO_CLOUDFLARE_PORT:-8787}"
if ! { [[ -f "$state/cloudflare.pid" ]] && kill -0 "$(cat "$state/cloudflare.pid")" 2>/dev/null; }; then
  nohup python -m harness.cloudflare.server --port "$port" --token demo-token --zone demo.aphex.test \
    >"$state/cloudflare.log" 2>&1 &
  echo $! > "$state/cloudflare.pid"
  for _ in $(seq 50); do grep -q "fake Cloudflare at" "$state/cloudflare.log" && break; sleep 0.1; done
fi

started=$SECONDS
APHEX_DEMO_CLOUDFLARE_PORT="$port" ansible-playbook playbooks/bootstrap.yml -i inventories/demo \
  -e "aphex_chart_mirror=$mirror" -e "aphex_release_manifests_dir=$releases" -e "aphex_git_server_url=$git_server" \
  "${@:2}"
echo
echo "demo: bootstrap took $((SECONDS - started)) s; the kube-apiserver and the local controllers tried to reach the cluster network" \
  "$(grep -cv "\"routed\"" "$state/egress-attempts.log" || true) time(s) (refused: harness/controlplane/egress_guard.py)"
# A tenant's push, as GitHub delivers it, through acme's EventListener (the real Tekton Triggers and
# interceptors) to its pipeline's run (the real Tekton controller; KWOK completes the steps), whose deploy step has
# the real ArgoCD deploy the pushed commit of acme-corp/web - served by the test platform's Git server, in GitHub's
# place - into the pipeline's namespace.
python -m harness.platform push acme acme-corp/web --from tools/demo-repository --state-dir "$state"
echo "demo: after the push, the kube-apiserver and the local controllers had tried to reach the cluster network" \
  "$(grep -cv "\"routed\"" "$state/egress-attempts.log" || true) time(s); connections handed to loopback (Tekton's webhooks, the API server's in-cluster name):" \
  "$(grep -c "\"routed\"" "$state/egress-attempts.log" || true)"
# A third tenant with kubectl only: a platform admin creates the Organization, its admin (as the kube-apiserver
# names her once signed in through Dex) the RepoBinding in her organization's namespace, and the tenant controller
# (controller/, run by the platform stack as its Deployment) onboards both with the code onboard.yml runs.
admin=(--kubeconfig "$state/admin.kubeconfig")
"$kubectl" "${admin[@]}" apply --server-side --field-manager=aphex-demo -f - <<'YAML'
apiVersion: aphex.io/v1alpha1
kind: Organization
metadata: {name: cobalt, namespace: platform-system}
spec: {displayName: Cobalt Works, adminUsers: [ada@cobalt.example]}
YAML
"$kubectl" "${admin[@]}" -n platform-system wait organization/cobalt --for=jsonpath='{.status.phase}'=Ready --timeout=120s
"$kubectl" "${admin[@]}" --as=oidc:ada@cobalt.example apply --server-side --field-manager=aphex-demo -f - <<'YAML'
apiVersion: aphex.io/v1alpha1
kind: RepoBinding
metadata: {name: cobalt-api, namespace: org-cobalt}
spec: {aphexOrg: cobalt, repoOrg: cobalt-works, repoName: api, pipelineName: cobalt-api, templateRef: run-pipeline-v1}
YAML
"$kubectl" "${admin[@]}" -n org-cobalt wait repobinding/cobalt-api --for=jsonpath='{.status.phase}'=Ready --timeout=120s
"$kubectl" "${admin[@]}" get organizations,repobindings -A
echo "Next: kubectl=$kubectl; \$kubectl --kubeconfig $state/admin.kubeconfig -n argocd get applications"
echo "      ansible-playbook playbooks/bootstrap.yml -i inventories/demo -e aphex_chart_mirror=$mirror -e aphex_release_manifests_dir=$releases -e aphex_git_server_url=$git_server   # again: changes nothing"
echo "      make cluster-down   # stops exactly what cluster-up and platform-up started"
