"""Issue 10 item 6, the counterfactual: the collection's Application health check (argocd-cm, from
roles/platform/templates/argocd-config.yaml.j2) is what makes platform-root's waves gate. The same real ArgoCD
syncs a few apps of three waves with that one setting removed (`aphex_argocd_settings: {<key>: null}`), and ArgoCD's
own timestamps show later waves created and syncing before the earlier ones were Healthy; with it in place
test_platform_sync.py shows none. The bootstrap's own wave-by-wave wait still succeeds - it reads every child
itself - which is why only ArgoCD's timestamps tell the two apart."""
from __future__ import annotations

import pytest
import yaml
from kubernetes import config

from tests.controlplane.cluster import ControlPlane, binaries
from tests.integration.test_bootstrap import bootstrap, write_inventory
from tests.integration.test_platform_sync import K3S_TEST_MODE, applications, wave_overlaps
from tests.k8s_helpers import REPO
from tests.platform.stack import PlatformStack

APPLICATION_HEALTH = "resource.customizations.health.argoproj.io_Application"
# Three waves whose apps take seconds to turn Healthy (CRDs to establish, Deployments for KWOK to make Available).
KEPT = {"tekton-pipelines", "tekton-triggers", "tekton-dashboard", "platform-crds", "platform-rbac"}
# Every other app of the k3s catalog is turned off.
K3S_APPS = [entry["name"] for entry in yaml.safe_load((REPO / "roles/platform/defaults/main.yml").read_text())[
    "platform_apps_catalog"] if "k3s" in entry.get("types", ["k3s"])]


@pytest.fixture(scope="module")
def ungated(tmp_path_factory):
    work = tmp_path_factory.mktemp("platform-wave-gate")
    plane = ControlPlane(work / "controlplane", binaries())
    plane.up()
    try:
        info = PlatformStack(plane).up()
        inventory = write_inventory(
            work / "inventory", plane.admin_kubeconfig, aphex_deployment_type="k3s", platform_wait=True,
            platform_argocd_wait=True, platform_wait_timeout=300, platform_wait_error_grace=20,
            aphex_chart_mirror=info["chart_mirror"], aphex_argocd_settings={**K3S_TEST_MODE, APPLICATION_HEALTH: None},
            aphex_apps_overrides={name: {"enabled": False} for name in K3S_APPS if name not in KEPT})
        run = bootstrap(inventory)
        yield {"run": run, "api": config.new_client_from_config(config_file=str(plane.admin_kubeconfig))}
    finally:
        plane.down()


def test_without_the_application_health_check_the_waves_overlap(ungated):
    run = ungated["run"]
    assert run.returncode == 0, run.output[-4000:]
    apps = applications(ungated["api"])
    assert set(apps) == KEPT | {"platform-root"}
    children = {name: app for name, app in apps.items() if name != "platform-root"}
    assert {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in children.items()} == {name: ("Synced", "Healthy") for name in children}
    overlaps = wave_overlaps(apps)
    assert overlaps, "every wave waited for the one before it even without the Application health check"
    # Wave 2 began before tekton-pipelines (wave 1) was Healthy.
    assert 1 in {earlier_wave for _child, earlier_wave, _began, _healthy_at in overlaps}, overlaps
    print("overlapping waves without the Application health check:", overlaps)
