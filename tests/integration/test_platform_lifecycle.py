"""A live platform's life with the collection (issue 25 items 2 and 4), on a real ArgoCD (built from its Go module) on
the local control plane syncing apps of four waves, with an organization, its pipeline and its Cloudflare tunnel
(the local Cloudflare server):

- installed by the last release (0.1.0, built from its commit and installed as a user installs it), then upgraded
  by this tree's bootstrap and onboard: every app Synced and Healthy, the upgrade's syncs wave by wave, no secret
  changed, no managed object deleted or re-created, a second run changes nothing;
- then torn down: the teardown refuses without its confirmation, previews with --check writing nothing, then
  removes a kubectl tenant through its controller, the inventory's with their tunnels and DNS records, the apps
  through ArgoCD the last wave first, ArgoCD, and the platform's namespaces; a second run changes nothing, and a
  fresh bootstrap on the same control plane converges again."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from kubernetes import dynamic

from harness.collection import install_release, installed_version, run_installed
from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.inventory import HOST, bootstrap, onboard, org, pipeline, tenant_writes, tunnel_settings
from harness.kube import get, labelled_uids, list_labelled, wait_for
from harness.platform.live import (TEST_MODE, applications, bootstrapped_platform, only_apps, resync_overlaps,
                                   webhooks_follow_their_apps)
from harness.playbooks import REPO, run_playbook

RELEASE = "0.1.0"
KEPT = {"tekton-pipelines", "tekton-triggers", "platform-crds", "platform-rbac", "external-secrets",
        "tenant-controller"}
APHEX = "aphex.io/v1alpha1"
MANAGED = "platform.aphex/managed-by=aphex-platform"


def _teardown(inventory, *args):
    return run_playbook(REPO / "playbooks/teardown.yml", "-i", str(inventory), *args)


def _states(api) -> dict:
    return {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in applications(api).items()}


def _secrets(api) -> dict:
    return {(item["metadata"]["namespace"], item["metadata"]["name"]): item.get("data") or {}
            for item in list_labelled(api, "v1", "Secret", MANAGED)}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def installed(tmp_path_factory, local_cloudflare):
    """The platform the release installed, then upgraded by this tree, with what each step saw."""
    work = tmp_path_factory.mktemp("platform-lifecycle")
    release = install_release(RELEASE, work / f"release-{RELEASE}")
    # The same inventory for both versions; aphex_tenant_controller is this tree's (the release ignores it)
    with bootstrapped_platform(work, "kind", TEST_MODE,
                               first_run=lambda inventory: run_installed(release, "bootstrap", "-i", str(inventory)),
                               aphex_apps_overrides=only_apps("kind", KEPT), aphex_tenant_controller=True,
                               **tunnel_settings(local_cloudflare),
                               aphex_organizations=[org("acme")],
                               aphex_pipelines=[pipeline("acme-web", "acme", "acme/web")]) as live:
        api, inventory = live["api"], live["inventory"]
        live["audit"] = audit = AuditLog(live["plane"].audit_log)
        live["release"] = release
        live["release_onboard"] = run_installed(release, "onboard", "-i", str(inventory))
        live["before"] = {"apps": _states(api), "secrets": _secrets(api), "uids": labelled_uids(api, MANAGED)}
        live["since"], live["mark"] = _now(), audit.mark()
        live["upgrade"] = [bootstrap(inventory), onboard(inventory)]
        live["after"] = {"apps": applications(api), "secrets": _secrets(api), "uids": labelled_uids(api, MANAGED)}
        yield live


@pytest.fixture(scope="module")
def upgraded(installed):
    for run in installed["upgrade"]:
        assert run.returncode == 0, run.output[-6000:]
    return installed


@pytest.fixture(scope="module")
def platform(upgraded):
    """The upgraded platform with an organization made with kubectl, for its tenant controller (new since 0.1.0)."""
    api = upgraded["api"]
    organizations = dynamic.DynamicClient(api).resources.get(api_version=APHEX, kind="Organization")
    organizations.create(body={"apiVersion": APHEX, "kind": "Organization",
                               "metadata": {"name": "cobalt", "namespace": "platform-system"},
                               "spec": {"displayName": "Cobalt Works", "adminUsers": ["ada@cobalt.example"]}},
                         namespace="platform-system")
    assert wait_for(lambda: ((get(api, APHEX, "Organization", "cobalt", "platform-system") or {})
                             .get("status") or {}).get("phase") == "Ready", timeout=120), \
        get(api, APHEX, "Organization", "cobalt", "platform-system")
    return upgraded


def test_the_release_installs_the_platform_and_its_tenants_from_its_own_collection(installed):
    first, release = installed["first"], installed["release"]
    assert first.returncode == 0, first.output[-6000:]
    assert installed_version(release) == RELEASE
    # every task that ran is the release's, none of this checkout's
    assert first.task_files and all(path.startswith(str(release)) for path in first.task_files), first.task_files
    assert str(release / "roles" / "tenants" / "tasks" / "main.yml") in first.task_files
    onboarded = installed["release_onboard"]
    assert onboarded.returncode == 0, onboarded.output[-6000:]
    before = installed["before"]
    assert before["apps"] == {name: ("Synced", "Healthy") for name in KEPT - {"tenant-controller"} | {"platform-root"}}
    assert {("org-acme", "github-webhook-secret"), ("org-acme", "cloudflared-token"),
            ("argocd", "argocd-secret")} <= set(before["secrets"])


def test_the_upgrade_converges_every_app_wave_by_wave(upgraded):
    apps = upgraded["after"]["apps"]
    assert {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in apps.items()} == {name: ("Synced", "Healthy") for name in KEPT | {"platform-root"}}
    # the apps whose sources changed since the release synced again, and in wave order
    resynced = {name for name, app in apps.items() if name != "platform-root"
                and app["status"]["operationState"]["startedAt"] >= upgraded["since"]}
    assert {"tekton-pipelines", "tekton-triggers", "tenant-controller"} <= resynced, resynced
    assert resync_overlaps(apps, upgraded["since"]) == []


def test_the_upgrade_changes_no_secret_and_recreates_no_managed_object(upgraded):
    before, after = upgraded["before"], upgraded["after"]
    # kept byte for byte; the upgrade may add what the release did not have (an organization's secret store)
    assert {key: after["secrets"].get(key) for key in before["secrets"]} == before["secrets"]
    kept = {key: after["uids"].get(key) for key in before["uids"]}
    assert kept == before["uids"], sorted(key for key in before["uids"] if kept[key] != before["uids"][key])
    # and the upgrade itself deleted nothing
    assert [write for write in tenant_writes(upgraded["audit"], upgraded["mark"], ADMIN_USER)
            if write[0] in ("delete", "deletecollection")] == []


def test_after_the_upgrade_a_second_run_changes_nothing(upgraded):
    mark = upgraded["audit"].mark()
    for again in (bootstrap(upgraded["inventory"]), onboard(upgraded["inventory"])):
        assert again.returncode == 0 and again.changed == 0, (again.changed_tasks, again.failed_results)
    assert tenant_writes(upgraded["audit"], mark, ADMIN_USER) == []


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
