"""Issue 10 items 4-6: a real ArgoCD (v3.6.1, built from its Go module) syncs the k3s catalog from the chart mirror
on loopback onto KWOK nodes, and bootstrap.yml waits wave by wave until every app is Synced and Healthy; a re-run
writes nothing; the waves really gate (ArgoCD's own timestamps); a child pinned to a version the mirror lacks fails
its wave naming the app and ArgoCD's message; and the kube-apiserver never tried to reach the cluster network.
The kind catalog is `make demo`'s."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import yaml
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import deployed_entries
from kubernetes import config

from tests.controlplane.audit import AuditLog
from tests.controlplane.cluster import ADMIN_USER, ControlPlane, binaries
from tests.integration.test_bootstrap import bootstrap, write_inventory
from tests.k8s_helpers import REPO, wait_for
from tests.platform.stack import PlatformStack

# The test-mode ArgoCD settings the demo uses (exclusions, health stand-ins), from their one home.
TEST_MODE = yaml.safe_load((REPO / "inventories/demo/group_vars/aphex_cluster.yml").read_text())["aphex_argocd_settings"]
# The k3s catalog's certificates come from Let's Encrypt (ACME, DNS-01 through Cloudflare's API): both outside
# loopback, so the local cert-manager controller has no ACME issuer and these kinds stand in here alone.
ACME_STAND_IN = 'return {status = "Healthy", message = "test mode: ACME (Let\'s Encrypt) is outside loopback"}'
K3S_TEST_MODE = {**TEST_MODE, **{f"resource.customizations.health.cert-manager.io_{kind}": ACME_STAND_IN
                                 for kind in ("Certificate", "ClusterIssuer")}}


def platform_inventory(directory: Path, plane: ControlPlane, info: dict, deployment_type: str,
                       argocd_settings: dict, **variables) -> Path:
    """An inventory of bootstrap.yml for a control plane with its platform stack: the charts from the stack's
    mirror, the wave-by-wave wait on."""
    return write_inventory(directory, plane.admin_kubeconfig, aphex_deployment_type=deployment_type,
                           platform_wait=True, platform_argocd_wait=True, platform_wait_timeout=300,
                           platform_wait_error_grace=20, aphex_chart_mirror=info["chart_mirror"],
                           aphex_argocd_settings=argocd_settings, **variables)


def only_apps(deployment_type: str, kept: set) -> dict:
    """aphex_apps_overrides that turn off every app of the deployment type's catalog but those kept."""
    catalog = yaml.safe_load((REPO / "roles/platform/defaults/main.yml").read_text())["platform_apps_catalog"]
    return {entry["name"]: {"enabled": False} for entry in deployed_entries(catalog, deployment_type)
            if entry["name"] not in kept}


@contextlib.contextmanager
def bootstrapped_platform(work: Path, deployment_type: str, argocd_settings: dict, **variables):
    """A control plane of its own with the platform stack, bootstrapped once: {plane, info, inventory, first (the
    run), api}. Everything it started stops at the end."""
    plane = ControlPlane(work / "controlplane", binaries())
    plane.up()
    try:
        info = PlatformStack(plane).up()
        inventory = platform_inventory(work / "inventory", plane, info, deployment_type, argocd_settings, **variables)
        yield {"plane": plane, "inventory": inventory, "first": bootstrap(inventory), "info": info,
               "api": config.new_client_from_config(config_file=str(plane.admin_kubeconfig))}
    finally:
        plane.down()


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    with bootstrapped_platform(tmp_path_factory.mktemp("platform-sync"), "k3s", K3S_TEST_MODE) as platform:
        yield platform


def applications(api) -> dict:
    from kubernetes import dynamic

    resource = dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    return {item["metadata"]["name"]: item for item in resource.get(namespace="argocd").to_dict()["items"]}


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


def wave_overlaps(apps: dict) -> list:
    """From ArgoCD's own timestamps, each child that was created or started syncing before every child of the wave
    before it was Healthy: (child, wave before, its created or started, that wave Healthy at). Timestamps are
    RFC 3339 to the second in UTC, so they compare as text."""
    by_wave = {}
    for name, app in apps.items():
        if name != "platform-root":
            by_wave.setdefault(int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]), []).append(app)
    ordered = sorted(by_wave)
    overlaps = []
    for earlier, later in zip(ordered, ordered[1:]):
        healthy_at = max(app["status"]["health"]["lastTransitionTime"] for app in by_wave[earlier])
        for app in by_wave[later]:
            began = min(app["metadata"]["creationTimestamp"], app["status"]["operationState"]["startedAt"])
            if began < healthy_at:
                overlaps.append((app["metadata"]["name"], earlier, began, healthy_at))
    return overlaps


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
    run = bootstrap(synced["inventory"])
    assert run.returncode == 0, run.output[-3000:]
    assert run.changed == 0, (run.changed_tasks, [result.get("diff") or result.get("results") or result
                                                  for result in run.changed_results])
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
