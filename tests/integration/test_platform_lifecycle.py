"""playbooks/teardown.yml (issue 25 item 4) on a live platform: a real ArgoCD (built from its Go module) on the local
control plane has synced apps of four waves, the tenant controller runs, an organization with a pipeline is onboarded
from inventory with its Cloudflare tunnel (the local Cloudflare server) and another is created with kubectl. The
teardown refuses without its confirmation, previews with --check writing nothing, then removes the kubectl tenant
through its controller, the inventory's with their tunnels and DNS records, the apps through ArgoCD the last wave
first, ArgoCD, and the platform's namespaces; a second run changes nothing, and a fresh bootstrap on the same
control plane converges again."""
from __future__ import annotations

import pytest
from kubernetes import dynamic

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.inventory import HOST, bootstrap, org, pipeline, tunnel_settings
from harness.kube import get, wait_for
from harness.platform.live import TEST_MODE, applications, bootstrapped_platform, only_apps, webhooks_follow_their_apps
from harness.playbooks import REPO, run_playbook

KEPT = {"tekton-pipelines", "tekton-triggers", "platform-crds", "platform-rbac", "external-secrets",
        "tenant-controller"}
APHEX = "aphex.io/v1alpha1"


def _teardown(inventory, *args):
    return run_playbook(REPO / "playbooks/teardown.yml", "-i", str(inventory), *args)


@pytest.fixture(scope="module")
def platform(tmp_path_factory, local_cloudflare):
    with bootstrapped_platform(tmp_path_factory.mktemp("platform-teardown"), "kind", TEST_MODE,
                               aphex_apps_overrides=only_apps("kind", KEPT), aphex_tenant_controller=True,
                               **tunnel_settings(local_cloudflare),
                               aphex_organizations=[org("acme")],
                               aphex_pipelines=[pipeline("acme-web", "acme", "acme/web")]) as live:
        assert live["first"].returncode == 0, live["first"].output[-6000:]
        api = live["api"]
        organizations = dynamic.DynamicClient(api).resources.get(api_version=APHEX, kind="Organization")
        organizations.create(body={"apiVersion": APHEX, "kind": "Organization",
                                   "metadata": {"name": "cobalt", "namespace": "platform-system"},
                                   "spec": {"displayName": "Cobalt Works", "adminUsers": ["ada@cobalt.example"]}},
                             namespace="platform-system")
        assert wait_for(lambda: ((get(api, APHEX, "Organization", "cobalt", "platform-system") or {})
                                 .get("status") or {}).get("phase") == "Ready", timeout=120), \
            get(api, APHEX, "Organization", "cobalt", "platform-system")
        live["audit"] = AuditLog(live["plane"].audit_log)
        yield live


def _live_tunnels(cloudflare) -> list:
    return [tunnel["name"] for tunnel in cloudflare.state.tunnels.values() if not tunnel["deleted_at"]]


def _records(cloudflare) -> list:
    return [record["name"] for records in cloudflare.state.records.values() for record in records.values()]


def test_teardown_refuses_without_the_clusters_name_and_removes_nothing(platform):
    mark = platform["audit"].mark()
    for confirm in ((), ("-e", "aphex_teardown_confirm=another-cluster")):
        refused = _teardown(platform["inventory"], *confirm)
        assert refused.returncode != 0
        [(task, result)] = refused.failed_results
        assert task == "Refuse without the cluster's name as confirmation"
        assert result["msg"].startswith("aphex_teardown_confirm: teardown removes every tenant")
        assert result["msg"].endswith(f"-e aphex_teardown_confirm={HOST}; nothing was removed")
    assert platform["audit"].writes(since=mark, user=ADMIN_USER) == []


def test_check_mode_shows_what_would_go_in_order_and_writes_nothing(platform, local_cloudflare):
    mark = platform["audit"].mark()
    preview = _teardown(platform["inventory"], "--check")
    assert preview.returncode == 0, preview.output[-6000:]
    [apps] = preview.task_results("Take the platform's apps down through ArgoCD, the last wave first", HOST)
    assert apps["root"] is True
    assert [wave["wave"] for wave in apps["waves"]] == [25, 15, 5, 2, 1]
    assert apps["waves"][2]["applications"] == ["platform-crds", "platform-rbac"]
    assert {"argocd", "tekton-pipelines", "external-secrets", "auth-system"} <= set(apps["namespaces"])
    assert not {"default", "kube-system"} & set(apps["namespaces"])
    assert {"organizations.aphex.io", "eventlisteners.triggers.tekton.dev"} <= set(apps["crds"])
    [pruned] = preview.task_results("Converge the organizations", HOST)
    assert [o["name"] for o in pruned["organizations"] if o["state"] == "absent"] == ["acme"]
    assert platform["audit"].writes(since=mark, user=ADMIN_USER) == []
    assert _live_tunnels(local_cloudflare) == ["webhooks-acme"]


def test_teardown_removes_tenants_apps_in_reverse_waves_argocd_and_namespaces(platform, local_cloudflare):
    api, audit = platform["api"], platform["audit"]
    waves = {name: int(app["metadata"]["labels"]["aphex.io/wave"]) for name, app in applications(api).items()
             if name != "platform-root"}
    mark = audit.mark()
    with webhooks_follow_their_apps(api):
        run = _teardown(platform["inventory"], "-e", f"aphex_teardown_confirm={HOST}")
    assert run.returncode == 0, run.output[-6000:]
    platform["teardown"] = run
    # tenants: the kubectl one through its controller, the inventory's with its tunnel and DNS record
    assert _live_tunnels(local_cloudflare) == [] and _records(local_cloudflare) == []
    for namespace in ("org-acme", "acme-web", "org-cobalt"):
        assert get(api, "v1", "Namespace", namespace) is None
    # the apps: platform-root alone first, then the children by wave, the last wave first
    deleted = [e.name for e in audit.writes(since=mark, user=ADMIN_USER)
               if e.verb == "delete" and e.resource == "applications"]
    assert deleted[0] == "platform-root" and sorted(deleted[1:]) == sorted(waves)
    order = [waves[name] for name in deleted[1:]]
    assert order == sorted(order, reverse=True), deleted
    # ArgoCD deleted what each app deployed (its own identity), and ArgoCD and the namespaces are gone
    argocd_deletes = [e for e in audit.writes(since=mark) if e.verb == "delete"
                      and e.user == "system:serviceaccount:argocd:argocd-application-controller"]
    assert argocd_deletes, "ArgoCD deleted nothing: the apps did not cascade"
    # ArgoCD never deletes a CRD with its app: the teardown does, after the apps, and ArgoCD's own with ArgoCD
    for crd in ("applications.argoproj.io", "organizations.aphex.io", "eventlisteners.triggers.tekton.dev",
                "secretstores.external-secrets.io"):
        assert get(api, "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd) is None, crd
    for namespace in ("argocd", "tekton-pipelines", "external-secrets", "platform-system", "auth-system"):
        assert get(api, "v1", "Namespace", namespace) is None, namespace


def test_a_second_teardown_changes_nothing(platform):
    assert "teardown" in platform, "the teardown test did not run"
    again = _teardown(platform["inventory"], "-e", f"aphex_teardown_confirm={HOST}")
    assert again.returncode == 0 and again.changed == 0, (again.changed_tasks, again.failed_results)


def test_a_fresh_bootstrap_after_teardown_converges_again(platform, local_cloudflare):
    assert "teardown" in platform, "the teardown test did not run"
    run = bootstrap(platform["inventory"])
    assert run.returncode == 0, run.output[-6000:]
    children = {name: app for name, app in applications(platform["api"]).items() if name != "platform-root"}
    assert set(children) == KEPT
    assert {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in children.items()} == {name: ("Synced", "Healthy") for name in children}
    assert _live_tunnels(local_cloudflare) == ["webhooks-acme"]
    assert get(platform["api"], "v1", "Namespace", "acme-web") is not None
