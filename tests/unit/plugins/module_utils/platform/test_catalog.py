"""The platform app catalog's code (module_utils/platform/catalog.py): which apps each deployment type gets, waves,
overrides and extras, the children of platform-root and their errors."""

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import (
    CatalogError,
    merged_catalog,
    platform_root_application,
    platform_waves,
    waves_summary,
)

from tests.unit.fixtures.catalog import CATALOG, CORE_INTERCEPTORS, RAW, SETS, render


def test_each_deployment_type_gets_its_own_ingress_gpu_and_dns():
    kind, k3s = set(render("kind")), set(render("k3s"))
    assert kind - k3s == {"ingress-nginx", "gpu"}
    assert k3s - kind == {"traefik", "gpu-operator", "external-dns"}


def test_waves_put_dependencies_first():
    waves = {name: int(app["additionalAnnotations"]["argocd.argoproj.io/sync-wave"])
             for name, app in render("k3s").items()}
    assert waves["platform-crds"] < waves["pipeline-catalog"]
    assert waves["cert-manager"] < waves["cert-manager-ready"] < waves["certificates"]
    assert waves["external-secrets"] < waves["auth"] < waves["dex"] < waves["ingress-routes"]
    assert waves["tekton-pipelines"] < waves["tekton-triggers"]


def test_children_carry_wave_finalizer_automated_sync_and_retry():
    app = render()["cert-manager"]
    assert app["additionalAnnotations"] == {"argocd.argoproj.io/sync-wave": "10"}
    assert app["additionalLabels"] == {"app.kubernetes.io/part-of": "aphex-platform", "aphex.io/wave": "10"}
    assert app["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert app["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert app["syncPolicy"]["retry"] == {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}
    assert app["source"]["chart"] == "cert-manager" and app["destination"]["namespace"] == "cert-manager"


def test_collection_manifests_travel_through_the_raw_chart():
    source = render()["platform-crds"]["source"]
    assert source == {"repoURL": RAW["repo"], "chart": "raw", "targetRevision": "2.0.2",
                      "helm": {"valuesObject": {"resources": SETS["platform-crds"]}}}


def test_the_catalog_patches_triggers_core_interceptors_client_limits_and_keeps_the_rest():
    resources = render()["tekton-triggers"]["source"]["helm"]["valuesObject"]["resources"]
    assert resources[0] == SETS["tekton-triggers"][0]
    assert resources[1]["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "1"}
    container = resources[1]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "interceptors"
    assert container["env"] == [{"name": "SYSTEM_NAMESPACE", "value": "tekton-pipelines"},
                                {"name": "KUBE_API_QPS", "value": "50"}, {"name": "KUBE_API_BURST", "value": "100"}]
    assert CORE_INTERCEPTORS["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "SYSTEM_NAMESPACE", "value": "tekton-pipelines"}]


def patched_extra(patch):
    return [{"name": "x", "wave": 1, "source": {"manifests": "tekton-triggers", "patches": [patch]}}]


def test_a_patch_naming_no_object_or_another_namespace_is_refused_with_its_index():
    with pytest.raises(CatalogError, match=r"'x': source.patches\[0\] names Deployment gone, which the manifest set "
                                           r"holds 0 times"):
        render(extra=patched_extra({"kind": "Deployment", "name": "gone", "patch": {"spec": {}}}))
    with pytest.raises(CatalogError, match="names Deployment default/tekton-triggers-core-interceptors, which the "
                                           "manifest set holds 0 times"):
        render(extra=patched_extra({"kind": "Deployment", "name": "tekton-triggers-core-interceptors",
                                    "namespace": "default", "patch": {"spec": {}}}))


def test_a_source_override_replaces_the_whole_source_and_values_merge():
    merged = {e["name"]: e for e in merged_catalog(CATALOG, {
        "dex": {"source": {"git": {"repo": "https://git.internal/dex.git", "path": "deploy", "revision": "v1"}}},
        "traefik": {"source": {"helm": {"repo": "r", "chart": "traefik", "version": "1"}}, "wave": 1}})}
    assert merged["dex"]["source"] == {"git": {"repo": "https://git.internal/dex.git", "path": "deploy",
                                               "revision": "v1"}}
    assert merged["traefik"]["wave"] == 1


def test_version_and_values_overrides_keep_the_rest_of_the_source():
    children = render("k3s", overrides={"cert-manager": {"version": "v1.21.3"},
                                        "gpu-operator": {"values": {"driver": {"enabled": True}}}})
    assert children["cert-manager"]["source"]["targetRevision"] == "v1.21.3"
    assert children["cert-manager"]["source"]["repoURL"] == "https://charts.jetstack.io"
    values = children["gpu-operator"]["source"]["helm"]["valuesObject"]
    assert values["driver"] == {"enabled": True} and values["toolkit"]["enabled"] is False
    with pytest.raises(CatalogError, match="platform_apps_overrides.platform-crds.version: the app's source has no"):
        render(overrides={"platform-crds": {"version": "2"}})
    with pytest.raises(CatalogError, match="platform_apps_overrides.platform-crds.values: only Helm sources"):
        render(overrides={"platform-crds": {"values": {}}})


@pytest.mark.parametrize("overrides, extra, message", [
    ({"grafana": {}}, None, "platform_apps_overrides.grafana: no such platform app"),
    (None, [{"name": "dex", "wave": 1, "source": {"manifests": "auth-config"}}], "'dex' is defined twice"),
    (None, [{"name": "Bad_Name", "wave": 1, "source": {"manifests": "auth-config"}}], "name must be a DNS label"),
    (None, [{"name": "x", "wave": "late", "source": {"manifests": "auth-config"}}], "'x': wave must be an integer"),
    (None, [{"name": "x", "wave": 1, "source": {}}], "source needs exactly one of helm, git, manifests"),
    (None, [{"name": "x", "wave": 1, "source": {"helm": {"repo": "r", "chart": "c"}}}],
     "source.helm needs repo, chart and version"),
    (None, [{"name": "x", "wave": 1, "source": {"manifests": "nope"}}], "source.manifests 'nope' is not a manifest set"),
    (None, [{"name": "x", "wave": 1, "types": ["eks"], "source": {"manifests": "auth-config"}}],
     "types may only contain kind and k3s"),
    (None, [{"name": "x", "wave": 1, "source": {"helm": {"repo": "r", "chart": "c", "version": "1"}, "patches": []}}],
     "source.patches applies to manifest sets only"),
    (None, patched_extra("Deployment"), r"source.patches\[0\] must be a mapping"),
    (None, patched_extra({"kind": "Deployment", "name": "", "patch": {"a": 1}}),
     r"source.patches\[0\].name must be a non-empty"),
    (None, patched_extra({"kind": "Deployment", "patch": {"a": 1}}), r"source.patches\[0\].name must be a non-empty"),
    (None, patched_extra({"patch": {"a": 1}}), r"source.patches\[0\].kind must be a non-empty"),
    (None, patched_extra({"kind": "Deployment", "name": "n"}), r"source.patches\[0\].patch must be a non-empty"),
    (None, patched_extra({"kind": "D", "name": "n", "patch": {"a": 1}, "op": "add"}), "unknown keys op"),
    (None, patched_extra({"kind": "Deployment", "name": "tekton-triggers-core-interceptors", "patch": {
        "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}}),
     r"source.patches\[0\].patch: containers: every item must carry its name"),
])
def test_invalid_catalog_entries_are_named(overrides, extra, message):
    with pytest.raises(CatalogError, match=message):
        render(overrides=overrides, extra=extra)


def test_unknown_deployment_type_is_refused():
    with pytest.raises(CatalogError, match="aphex_deployment_type must be kind or k3s, not 'eks'"):
        render("eks")


def test_root_application_and_waves():
    children = render()
    root = platform_root_application(children, {"repo": "https://argoproj.github.io/argo-helm",
                                                "chart": "argocd-apps", "version": "2.0.2"})
    assert root["metadata"]["name"] == "platform-root"
    assert root["spec"]["source"]["helm"]["valuesObject"]["applications"] == children
    waves = platform_waves(children)
    assert [w["wave"] for w in waves] == sorted({w["wave"] for w in waves})
    assert {"wave": 16, "applications": ["auth", "auth-config"], "revisions": {"auth": "2025.10.2", "auth-config": "2.0.2"}} \
        in waves
    summary = waves_summary(waves)
    assert len(summary) == len(waves) and "wave 16: auth, auth-config" in summary


def test_platform_apps_use_the_platform_project_not_the_locked_default():
    """Issue 11 item 1: ArgoCD's `default` project is locked, so the platform's own apps need a project of their own."""
    children = render("kind")
    assert {child["project"] for child in children.values()} == {"platform"}
    assert platform_root_application(children, RAW)["spec"]["project"] == "platform"


def test_with_the_operators_repository_platform_root_deploys_its_folder_and_without_it_the_chart():
    children = render("kind")
    chart = {"repo": "https://argoproj.github.io/argo-helm", "chart": "argocd-apps", "version": "2.0.2"}
    without = platform_root_application(children, chart)
    assert without["spec"]["source"] == {"repoURL": "https://argoproj.github.io/argo-helm", "chart": "argocd-apps",
                                         "targetRevision": "2.0.2",
                                         "helm": {"valuesObject": {"applications": children}}}
    repository = {"url": "https://git.example.com/ops/platform.git", "branch": "lab", "path": "/clusters/a/"}
    with_repository = platform_root_application(children, chart, repository=repository)
    assert with_repository["spec"]["source"] == {"repoURL": "https://git.example.com/ops/platform.git",
                                                 "targetRevision": "lab", "path": "clusters/a",
                                                 "directory": {"recurse": True}}
    # the rest of platform-root is the same either way
    assert {**with_repository["spec"], "source": None} == {**without["spec"], "source": None}
    assert with_repository["metadata"] == without["metadata"]
