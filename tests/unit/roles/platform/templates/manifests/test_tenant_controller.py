"""The tenant controller's app as the platform role renders it (templates/manifests/tenant-controller.yaml.j2): off
unless asked for, its settings those onboard.yml converges with, its pod locked down. Its run against the real API
server is tests/integration/test_tenant_controller.py."""
from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.aphex.platform.controller.__main__ import tenancy_settings
from harness import REPO
from harness.platform.catalog import rendered_platform

RAW = {"repo": "https://charts.example/raw", "chart": "raw", "version": "2.0.2"}


def app(deployment_type="kind", **variables):
    rendered = rendered_platform(deployment_type, "tc.example", raw_chart=RAW, variables=variables)
    return rendered["applications"].get("tenant-controller")


def objects(application) -> dict:
    resources = application["source"]["helm"]["valuesObject"]["resources"]
    return {(o["kind"], o["metadata"]["name"]): o for o in resources}


@pytest.mark.parametrize("deployment_type", ["kind", "k3s"])
def test_the_app_is_off_until_asked_for_then_synced_after_the_platforms_crds_and_rbac(deployment_type):
    assert app(deployment_type) is None
    application = app(deployment_type, aphex_tenant_controller=True)
    assert application["additionalAnnotations"]["argocd.argoproj.io/sync-wave"] == "25"
    assert application["project"] == "platform"


def test_the_controller_converges_with_the_settings_onboard_yml_converges_with():
    application = app(aphex_tenant_controller=True, aphex_webhook_domain="hooks.tc.example",
                      aphex_tenant_quota={"limits.cpu": "6"}, aphex_tenant_egress="restricted",
                      aphex_tenant_apps_domain="apps.tc.example", aphex_git_server_url="https://git.tc.example")
    text = objects(application)[("ConfigMap", "aphex-tenant-controller")]["data"]["APHEX_TENANCY_SETTINGS"]
    settings = tenancy_settings(None, text)
    assert settings.webhook_url("acme") == "https://acme.hooks.tc.example"
    assert (settings.quota["limits.cpu"], settings.egress, settings.apps_domain, settings.git_server_url) == (
        "6", "restricted", "apps.tc.example", "https://git.tc.example")
    assert settings.ingress_namespaces == ["ingress-system"] and json.loads(text)["isolation"] is True


def test_the_settings_read_the_variables_of_the_tenants_role_with_its_defaults():
    platform = yaml.safe_load((REPO / "roles/platform/vars/main.yml").read_text())
    tenants = yaml.safe_load((REPO / "roles/tenants/defaults/main.yml").read_text())
    mapping = platform["platform_tenant_controller_settings"]
    for setting, expression in mapping.items():
        if setting == "ingress_namespaces":  # the playbooks give the tenants role the platform role's value
            assert expression == "{{ platform_tenant_ingress_namespaces }}"
            continue
        assert expression == tenants[f"tenants_{setting}"], setting


def test_the_pod_runs_as_its_serviceaccount_unprivileged_with_a_read_only_root():
    application = app(aphex_tenant_controller=True, aphex_tenant_controller_image="registry.tc.example/tc:1")
    deployment = objects(application)[("Deployment", "aphex-tenant-controller")]
    spec = deployment["spec"]
    assert (spec["replicas"], spec["strategy"]) == (1, {"type": "Recreate"})
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert pod["serviceAccountName"] == "aphex-tenant-controller" and pod["securityContext"]["runAsNonRoot"]
    assert container["image"] == "registry.tc.example/tc:1"
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert container["envFrom"] == [{"configMapRef": {"name": "aphex-tenant-controller"}}]
