"""The catalog filters (platform_applications, platform_tenant_ingress_namespaces, ...): the catalog's answers,
and its errors as filter errors a play reports."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import tenant_ingress_namespaces

from tests.unit.fixtures.catalog import CATALOG, RAW, SETS, render


def test_filters_report_catalog_errors_as_filter_errors():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.aphex.platform.plugins.filter.platform_apps import FilterModule

    platform_applications_filter = FilterModule().filters()["platform_applications"]
    assert set(platform_applications_filter(CATALOG, "kind", manifest_sets=SETS, raw_chart=RAW)) == set(render())
    with pytest.raises(AnsibleFilterError, match="no such platform app"):
        platform_applications_filter(CATALOG, "kind", overrides={"nope": {}}, manifest_sets=SETS, raw_chart=RAW)


@pytest.mark.parametrize("deployment_type, namespaces", [("kind", ["ingress-system"]), ("k3s", ["traefik"])])
def test_tenant_ingress_namespaces_follow_the_deployed_catalog(deployment_type, namespaces):
    """Issue 11 item 3: the tenant network policy admitted ingress-nginx, traefik and tekton-pipelines whatever was
    deployed; the kind catalog installs ingress-nginx into ingress-system, so ingress to tenants was blocked."""
    assert tenant_ingress_namespaces(CATALOG, deployment_type) == namespaces
    moved = tenant_ingress_namespaces(CATALOG, deployment_type, overrides={
        "ingress-nginx" if deployment_type == "kind" else "traefik": {"namespace": "edge"}})
    assert moved == ["edge"]
    disabled = tenant_ingress_namespaces(CATALOG, deployment_type, overrides={
        "ingress-nginx" if deployment_type == "kind" else "traefik": {"enabled": False}})
    assert disabled == []
