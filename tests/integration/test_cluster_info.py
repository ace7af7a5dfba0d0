"""playbooks/cluster_info.yml on the session's control plane: the version, the namespaces, and which platform APIs
are served or missing (none yet, each named with the app that provides it)."""
from __future__ import annotations

from harness import REPO
from harness.controlplane.cluster import pinned_versions
from harness.playbooks import run_playbook


def test_cluster_info_playbook_reports_version_namespaces_and_missing_platform_apis(control_plane):
    run = run_playbook(REPO / "playbooks/cluster_info.yml", "-i", str(REPO / "inventories/demo"),
                       "-e", f"aphex_kubeconfig={control_plane.admin_kubeconfig}")
    assert run.returncode == 0, run.output
    [report] = run.task_results("Show the report", "demo-cluster")
    version, namespaces, served, missing = report["msg"]
    assert version == f"Kubernetes {pinned_versions()['K8S_VERSION']} at {control_plane.url}"
    assert {"default", "kube-system"} <= set(namespaces.removeprefix("namespaces: ").split(", "))
    assert served == "platform APIs served: none yet"
    assert missing.startswith("platform APIs missing: argoproj.io (from argocd), tekton.dev (from tekton-pipelines)")
    assert run.changed == 0
