"""Issue 10 items 4-6: a real ArgoCD (v3.6.1, built from its Go module) syncs the k3s catalog from the chart mirror
on loopback onto KWOK nodes, and bootstrap.yml waits wave by wave until every app is Synced and Healthy; a re-run
writes nothing; the waves really gate (ArgoCD's own timestamps); a child pinned to a version the mirror lacks fails
its wave naming the app and ArgoCD's message; and the kube-apiserver never tried to reach the cluster network.
The kind catalog is `make demo`'s."""
from __future__ import annotations

import time

import pytest

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.inventory import bootstrap
from harness.kube import wait_for
from harness.platform.live import K3S_TEST_MODE, applications, bootstrapped_platform, platform_inventory, wave_overlaps


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    with bootstrapped_platform(tmp_path_factory.mktemp("platform-sync"), "k3s", K3S_TEST_MODE) as platform:
        yield platform


def test_the_k3s_catalog_converges_wave_by_wave(synced):
    run = synced["first"]
    assert run.returncode == 0, run.output[-4000:]
    apps = applications(synced["api"])
    children = {name: app for name, app in apps.items() if name != "platform-root"}
    assert {"traefik", "gpu-operator", "external-dns", "tekton-triggers", "tekton-dashboard"} <= set(children)
    assert {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in children.items()} == {name: ("Synced", "Healthy") for name in children}

    # platform-root finishes its own sync operation after the last wave it waited for.
    def root_state():
        status = applications(synced["api"])["platform-root"]["status"]
        return (status["sync"]["status"], status["health"]["status"])

    wait_for(lambda: root_state() == ("Synced", "Healthy"), timeout=120)
    root = applications(synced["api"])["platform-root"]["status"]
    assert root_state() == ("Synced", "Healthy"), (
        [resource for resource in root.get("resources", []) if resource.get("status") != "Synced"],
        root.get("conditions"), root.get("operationState", {}).get("message"))
    # And it stays so: platform-root's self-heal used to strip the finalizers ArgoCD adds to a child whose chart
    # has post-delete hooks (gpu-operator's), the child's controller put them back, and root was OutOfSync again
    # every 10-20 s.
    for _sample in range(10):
        time.sleep(3)
        assert root_state() == ("Synced", "Healthy")
    finalizers = applications(synced["api"])["gpu-operator"]["metadata"]["finalizers"]
    assert "post-delete-finalizer.argocd.argoproj.io" in finalizers, finalizers
    # Progress per wave: one task per wave, in order.
    waves = sorted({int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for app in children.values()})
    names = [task["task"]["name"].split(" : ")[-1] for play in run.document["plays"] for task in play["tasks"]]
    assert [name.split(" - ")[0] for name in names if name.startswith("Wave ")] == [f"Wave {wave}" for wave in waves]


def test_no_child_of_a_wave_started_before_the_previous_wave_was_healthy(synced):
    """platform-root creates the children of wave N+1 (and they start syncing) only after every child of wave N
    turned Healthy. tests/integration/test_platform_wave_gate.py shows it is the collection's Application health
    check that makes it so: without it the waves overlap."""
    apps = applications(synced["api"])
    assert len(apps) > 10
    assert wave_overlaps(apps) == []


def test_a_rerun_writes_nothing(synced):
    audit = AuditLog(synced["plane"].audit_log)
    mark = audit.mark()
    run = bootstrap(synced["inventory"], "--diff")
    assert run.returncode == 0, run.output[-3000:]
    # should it recur: which task changed which field (tools/rerun_check.py runs this check again and again)
    assert run.changed == 0, (run.changed_tasks, run.changed_fields)
    assert audit.writes(since=mark, user=ADMIN_USER) == []


def test_nothing_tried_to_leave_loopback(synced):
    assert synced["plane"].egress_attempts() == []


def test_a_version_the_mirror_lacks_fails_its_wave_naming_the_app_and_argocds_message(synced):
    overrides = platform_inventory(synced["inventory"].parent / "broken", synced["plane"], synced["info"], "k3s",
                                   K3S_TEST_MODE, aphex_apps_overrides={"external-dns": {"version": "1.99.0"}})
    run = bootstrap(overrides, "--tags", "apps,wait")
    assert run.returncode != 0
    [result] = run.task_results("Wave 5 - external-dns, platform-crds, platform-rbac", "test-cluster")
    assert result.get("failed"), result
    assert result["msg"].startswith("wave 5 failed: external-dns: ComparisonError"), result["msg"]
    assert "1.99.0" in result["msg"], result["msg"]
