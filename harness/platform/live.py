"""A live platform for tests: a control plane of its own with the platform stack (stack.py), bootstrapped once by
bootstrap.yml, and what tests read of it (ArgoCD's Applications, the waves' overlaps by ArgoCD's own timestamps)."""
from __future__ import annotations

import contextlib
from pathlib import Path

import yaml
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import deployed_entries
from kubernetes import config

from harness import REPO
from harness.platform.catalog import catalog_entries
from harness.controlplane.cluster import ControlPlane, binaries
from harness.inventory import bootstrap, write_platform_inventory
from harness.platform.stack import PlatformStack

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
    return write_platform_inventory(directory, plane.admin_kubeconfig, aphex_deployment_type=deployment_type,
                                    platform_wait=True, platform_argocd_wait=True, platform_wait_timeout=300,
                                    platform_wait_error_grace=20, aphex_chart_mirror=info["chart_mirror"],
                                    aphex_argocd_settings=argocd_settings, **variables)


def only_apps(deployment_type: str, kept: set) -> dict:
    """aphex_apps_overrides that turn off every app of the deployment type's catalog but those kept."""
    catalog = catalog_entries()
    return {entry["name"]: {"enabled": False} for entry in deployed_entries(catalog, deployment_type)
            if entry["name"] not in kept}


@contextlib.contextmanager
def bootstrapped_platform(work: Path, deployment_type: str, argocd_settings: dict, first_run=bootstrap,
                          before_first_run=None, **variables):
    """A control plane of its own with the platform stack, bootstrapped once by first_run(inventory) (this tree's
    bootstrap.yml unless told) after before_first_run(api) (what the operator does first, if anything): {plane,
    info, inventory, first (the run), api}. Everything it started stops at the end."""
    plane = ControlPlane(work / "controlplane", binaries())
    plane.up()
    try:
        info = PlatformStack(plane).up()
        inventory = platform_inventory(work / "inventory", plane, info, deployment_type, argocd_settings, **variables)
        api = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
        if before_first_run is not None:
            before_first_run(api)
        yield {"plane": plane, "inventory": inventory, "first": first_run(inventory), "info": info, "api": api}
    finally:
        plane.down()


def applications(api) -> dict:
    from kubernetes import dynamic

    resource = dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    return {item["metadata"]["name"]: item for item in resource.get(namespace="argocd").to_dict()["items"]}


def _children_by_wave(apps: dict, kept=lambda app: True) -> dict:
    """platform-root's children (those kept) by their sync wave, in wave order."""
    by_wave = {}
    for name, app in apps.items():
        if name != "platform-root" and kept(app):
            by_wave.setdefault(int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]), []).append(app)
    return dict(sorted(by_wave.items()))


def wave_overlaps(apps: dict) -> list:
    """From ArgoCD's own timestamps, each child that was created or started syncing before every child of the wave
    before it was Healthy: (child, wave before, its created or started, that wave Healthy at). Timestamps are
    RFC 3339 to the second in UTC, so they compare as text."""
    by_wave = _children_by_wave(apps)
    ordered = list(by_wave)
    overlaps = []
    for earlier, later in zip(ordered, ordered[1:]):
        healthy_at = max(app["status"]["health"]["lastTransitionTime"] for app in by_wave[earlier])
        for app in by_wave[later]:
            began = min(app["metadata"]["creationTimestamp"], app["status"]["operationState"]["startedAt"])
            if began < healthy_at:
                overlaps.append((app["metadata"]["name"], earlier, began, healthy_at))
    return overlaps


def _operation(app: dict) -> dict:
    return (app.get("status") or {}).get("operationState") or {}


def resync_overlaps(apps: dict, since: str) -> list:
    """Of the children whose last sync started at or after `since` (RFC 3339, UTC, to the second), each that started
    before every such child of an earlier wave had finished: (child, earlier wave, its start, that wave finished
    at). What an upgrade's syncs show of the waves - the apps it did not change keep their earlier sync."""
    by_wave = _children_by_wave(apps, lambda app: _operation(app).get("startedAt", "") >= since)
    ordered = list(by_wave)
    overlaps = []
    for later in ordered[1:]:
        for earlier in (wave for wave in ordered if wave < later):
            finished = max(_operation(app).get("finishedAt") or "~" for app in by_wave[earlier])
            overlaps += [(app["metadata"]["name"], earlier, _operation(app)["startedAt"], finished)
                         for app in by_wave[later] if _operation(app)["startedAt"] < finished]
    return overlaps


@contextlib.contextmanager
def webhooks_follow_their_apps(api):
    """Test mode keeps webhook configurations out of ArgoCD's hands (the kube-apiserver would call them, and nothing
    it dials may leave loopback), and the stack applies Tekton's itself (stack.py, routed to the local webhooks).
    Deleting an app, ArgoCD would delete its webhook configurations with the rest: without that, the garbage
    collector's update of the app's other objects calls a webhook whose Service is gone, and the deletion never
    ends. This stands in for ArgoCD there, and there only: while an Application is being deleted, the webhook
    configurations labelled part of it go."""
    import threading

    from kubernetes import client
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

    admission = client.AdmissionregistrationV1Api(api)
    stop = threading.Event()

    def being_deleted() -> list:
        try:
            return [name for name, app in applications(api).items() if app["metadata"].get("deletionTimestamp")]
        except (ResourceNotFoundError, NotFoundError):  # ArgoCD's CRDs are gone: so are its apps
            return []

    def follow():
        while not stop.wait(0.5):
            for name in being_deleted():
                selector = f"app.kubernetes.io/part-of={name}"
                for listed, delete in ((admission.list_validating_webhook_configuration,
                                        admission.delete_validating_webhook_configuration),
                                       (admission.list_mutating_webhook_configuration,
                                        admission.delete_mutating_webhook_configuration)):
                    for item in listed(label_selector=selector).items:
                        try:
                            delete(item.metadata.name)
                        except client.ApiException as error:
                            if error.status != 404:
                                raise

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        yield
    finally:
        stop.set()
        follower.join()
