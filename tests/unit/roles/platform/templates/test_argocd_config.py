"""ArgoCD's configuration as the platform role renders it (templates/argocd-config.yaml.j2): the platform's own
project, the locked default project, tenant Applications served in their namespaces, and aphex_argocd_settings
going over the collection's settings."""
from __future__ import annotations

import pytest

from harness.platform.catalog import role_platform

RAW = {"repo": "https://charts.example/raw", "chart": "raw", "version": "2.0.2"}


@pytest.mark.parametrize("deployment_type", ["kind", "k3s"])
def test_argocd_default_project_is_locked_and_tenant_applications_are_served_in_their_namespaces(deployment_type):
    """Issue 11 item 1: ArgoCD's `default` project (all destinations, all kinds) was open to any Application; it is
    locked, the platform's apps use the project `platform`, and ArgoCD serves Applications outside its namespace,
    which only a project listing that namespace in sourceNamespaces (a pipeline's own) accepts."""
    documents = role_platform(deployment_type, "sso.example", RAW)["argocd"]
    projects = {d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "AppProject"}
    assert projects["default"] == {"description": projects["default"]["description"], "sourceRepos": [],
                                   "destinations": [], "clusterResourceWhitelist": [],
                                   "namespaceResourceWhitelist": [], "sourceNamespaces": []}
    assert projects["platform"]["sourceNamespaces"] == []
    [params] = [d for d in documents if d["metadata"]["name"] == "argocd-cmd-params-cm"]
    assert params["data"]["application.namespaces"] == "*"


def test_argocd_settings_go_over_the_collections_own_and_null_removes_one():
    """aphex_argocd_settings adds argocd-cm keys, replaces the collection's (one key, one value: no duplicate YAML
    key) and removes one set to null - how test_platform_sync.py shows what the Application health check does."""
    from harness.platform.catalog import rendered_platform

    health = "resource.customizations.health.argoproj.io_Application"

    def argocd_cm(settings):
        documents = rendered_platform("k3s", "settings.example", variables={"aphex_argocd_settings": settings})
        [config_map] = [d for d in documents["argocd"] if d["metadata"]["name"] == "argocd-cm"]
        return config_map["data"]

    own = argocd_cm({})
    assert set(own) == {"url", "admin.enabled", "oidc.config", health}
    assert 'return {status = "Progressing"' in own[health]
    merged = argocd_cm({"timeout.reconciliation": "30s", "url": "https://cd.settings.example", health: None})
    assert merged == {**{key: value for key, value in own.items() if key != health},
                      "timeout.reconciliation": "30s", "url": "https://cd.settings.example"}


def test_argocd_gives_no_role_to_a_user_in_none_of_the_platforms_groups_and_matches_emails():
    """Issue 24 item 3: policy.default was role:readonly, so every signed-in user - any tenant - saw every
    Application. Organization admins get their pipelines' through the AppProjects' roles, which name them by email."""
    import yaml as _yaml
    from harness.platform.catalog import rendered_platform

    documents = rendered_platform("kind", "argocd.example", raw_chart={"repo": "r", "chart": "raw", "version": "1"})["argocd"]
    [rbac] = [d for d in documents if d["metadata"]["name"] == "argocd-rbac-cm"]
    assert rbac["data"]["policy.default"] == ""
    assert _yaml.safe_load(rbac["data"]["scopes"]) == ["groups", "email"]
