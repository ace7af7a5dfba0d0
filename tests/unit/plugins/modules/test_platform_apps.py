"""aphex.platform.platform_apps through its main(): a catalog or override that cannot be rendered is named before
any connection. The root Application against the real API server: tests/integration/test_bootstrap.py; synced by a
real ArgoCD: the platform tests."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.platform_apps import main

from harness.platform.catalog import catalog_entries
from tests.unit.fixtures.modules import run_main

CHARTS = {"apps_chart": {"repo": "https://charts.example/argo", "chart": "argocd-apps", "version": "2.0.2"},
          "raw_chart": {"repo": "https://charts.example/raw", "chart": "raw", "version": "2.0.2"}}


def test_an_override_of_an_unknown_app_is_named_before_connecting(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "deployment_type": "kind",
                             "catalog": catalog_entries(), "overrides": {"grafana": {"wave": 1}}, **CHARTS})
    assert result["failed"] is True
    assert "grafana" in result["msg"] and "no kubeconfig" not in result["msg"]


def test_the_deployment_type_is_kind_or_k3s():
    result = run_main(main, {"deployment_type": "eks", "catalog": [], **CHARTS})
    assert "value of deployment_type must be one of: kind, k3s, got: eks" in result["msg"]


def test_a_collection_manifest_set_that_was_not_given_is_named_before_connecting(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "deployment_type": "k3s",
                             "catalog": catalog_entries(), **CHARTS})
    assert result["failed"] is True
    assert "platform app 'ingress-routes': source.manifests 'ingress-routes' is not a manifest set of the " \
           "collection ()" in result["msg"]


def test_a_renderable_catalog_then_needs_the_cluster(tmp_path):
    catalog = [{"name": "cert-manager", "wave": 10, "namespace": "cert-manager",
                "source": {"helm": {"repo": "https://charts.example/jetstack", "chart": "cert-manager",
                                    "version": "v1.21.2"}}}]
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "deployment_type": "k3s", "catalog": catalog,
                             **CHARTS})
    assert result["msg"].startswith("cannot connect to the cluster: no kubeconfig absent")


def test_with_a_repository_a_catalog_error_is_still_named_before_the_repository_or_the_cluster(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "deployment_type": "kind",
                             "catalog": catalog_entries(), "overrides": {"grafana": {"wave": 1}},
                             "repository": {"url": f"file://{tmp_path}/absent.git"}, **CHARTS})
    assert result["failed"] is True and "grafana" in result["msg"]
    assert "absent.git" not in result["msg"] and not (tmp_path / "absent.git").exists()


def test_a_repository_needs_its_url():
    result = run_main(main, {"deployment_type": "kind", "catalog": [], "repository": {"path": "platform"}, **CHARTS})
    assert "missing required arguments: url found in repository" in result["msg"]
