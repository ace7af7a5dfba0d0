#!/usr/bin/env bash
# `make demo`: what the local platform runs today. Until the bootstrap
# playbook lands this is the test control plane and the collection's cluster
# report against it.
set -euo pipefail
state="${1:-.cluster}"
python -m tests.controlplane status --state-dir "$state"
kubectl="$(python -m tests.controlplane build)/kubectl"
echo
"$kubectl" --kubeconfig "$state/admin.kubeconfig" get namespaces
echo
ansible-playbook playbooks/cluster_info.yml -i inventories/demo
echo
echo "Next: kubectl=$kubectl; \$kubectl --kubeconfig $state/admin.kubeconfig get all -A"
echo "      make cluster-down   # stops exactly what cluster-up started"
