"""Issue 10 item 6, the counterfactual: the collection's Application health check (argocd-cm, from
roles/platform/templates/argocd-config.yaml.j2) is what makes platform-root's waves gate. The same real ArgoCD
syncs a few apps of three waves with that one setting removed (`aphex_argocd_settings: {<key>: null}`), and ArgoCD's
own timestamps show later waves created and syncing before the earlier ones were Healthy; with it in place
test_platform_sync.py shows none. The bootstrap's own wave-by-wave wait still succeeds - it reads every child
itself - which is why only ArgoCD's timestamps tell the two apart."""
from __future__ import annotations

import pytest

from harness.platform.live import K3S_TEST_MODE, applications, bootstrapped_platform, only_apps, wave_overlaps

APPLICATION_HEALTH = "resource.customizations.health.argoproj.io_Application"
# Three waves whose apps take seconds to turn Healthy (CRDs to establish, Deployments for KWOK to make Available).
KEPT = {"tekton-pipelines", "tekton-triggers", "tekton-dashboard", "platform-crds", "platform-rbac"}


@pytest.fixture(scope="module")
def ungated(tmp_path_factory):
    with bootstrapped_platform(tmp_path_factory.mktemp("platform-wave-gate"), "k3s",
                               {**K3S_TEST_MODE, APPLICATION_HEALTH: None},
                               aphex_apps_overrides=only_apps("k3s", KEPT)) as platform:
        yield platform


def test_without_the_application_health_check_the_waves_overlap(ungated):
    run = ungated["first"]
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
