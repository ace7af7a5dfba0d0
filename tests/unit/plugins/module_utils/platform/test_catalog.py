"""The platform app catalog (role defaults), its rendering and validation, the secret specs, and the pipeline
catalog against the Tekton v1 shape and the run-pipeline-v1 dispatcher."""
import re

import pytest
import yaml
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import (
    CatalogError,
    merged_catalog,
    platform_applications,
    platform_root_application,
    platform_waves,
    waves_summary,
    tenant_ingress_namespaces,
)
from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import validate
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import _dispatcher_template

from harness import REPO
from harness.platform.catalog import catalog_entries, role_platform
CATALOG = catalog_entries()
SETS = {name: [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}] for name in (
    "gpu-runtimeclass", "cert-manager-ready", "auth-config", "auth-config-sync", "certificates", "ingress-routes", "platform-crds",
    "platform-rbac", "pipeline-catalog", "tekton-triggers", "tekton-dashboard")}
RAW = {"repo": "https://charts.example/raw", "chart": "raw", "version": "2.0.2"}
CATALOG_V1 = [doc for path in sorted((REPO / "files/pipeline-catalog/v1").glob("*.yaml"))
              for doc in yaml.safe_load_all(path.read_text())]


def render(deployment_type="kind", **kwargs):
    return platform_applications(CATALOG, deployment_type, manifest_sets=SETS, raw_chart=RAW, **kwargs)


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


@pytest.mark.parametrize("spec, message", [
    ({"name": "s", "namespace": "Bad", "keys": {"k": {"generate": "hex"}}}, "not a valid namespace name"),
    ({"name": "s", "namespace": "ns", "keys": {}}, "keys is empty"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "uuid"}}}, "generate must be one of"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "hex", "length": 4}}}, "length must be an integer"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "hex", "value": "v"}}}, "exactly one of"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"copy": {"name": "other", "key": "x"}}}},
     "copy must name a key .* of a secret listed before this one"),
    ({"name": "s", "namespace": "ns", "keys": {"bad key": {"value": "v"}}}, "keys are letters, digits"),
])
def test_secret_specs_are_validated_per_key(spec, message):
    problems = validate([spec])
    assert any(re.search(message, problem) for problem in problems), problems


def test_platform_secret_defaults_are_valid():
    variables = yaml.safe_load((REPO / "roles/platform/vars/main.yml").read_text())
    assert validate(variables["platform_generated_secrets"]) == []


def test_pipeline_catalog_objects_have_the_tekton_v1_shape():
    assert {doc["metadata"]["name"] for doc in CATALOG_V1} == {
        "git-clone-v1", "buildah-build-v1", "kubectl-apply-v1", "argocd-application-v1", "python-test-v1",
        "build-and-deploy-v1"}
    for doc in CATALOG_V1:
        name = doc["metadata"]["name"]
        assert doc["apiVersion"] == "tekton.dev/v1" and doc["kind"] in ("Task", "Pipeline"), name
        assert doc["metadata"]["namespace"] == "pipeline-catalog", name
        assert doc["metadata"]["labels"]["aphex.io/catalog-version"].startswith("1."), name
        assert name.endswith("-v" + doc["metadata"]["labels"]["aphex.io/catalog-api"][1:]), name
        params = doc["spec"].get("params", [])
        assert len({p["name"] for p in params}) == len(params), name
        for param in params:
            assert param.get("type", "string") in ("string", "array", "object"), (name, param)
        if doc["kind"] == "Task":
            assert doc["spec"]["steps"], name
            declared = {p["name"] for p in params}
            text = yaml.safe_dump(doc["spec"]["steps"])
            used = {ref.split("[")[0] for ref in re.findall(r"\$\(params\.([-\w\[\]*]+)\)", text)}
            assert used <= declared, (name, used - declared)
            for step in doc["spec"]["steps"]:
                assert step.get("image"), (name, step["name"])
                context = step.get("securityContext", {})
                assert not context.get("privileged") and context.get("allowPrivilegeEscalation") is False, \
                    (name, step["name"])


def test_catalog_pipeline_tasks_resolve_within_the_catalog():
    tasks = {doc["metadata"]["name"] for doc in CATALOG_V1 if doc["kind"] == "Task"}
    pipeline = next(doc for doc in CATALOG_V1 if doc["kind"] == "Pipeline")
    for task in pipeline["spec"]["tasks"]:
        params = {p["name"]: p["value"] for p in task["taskRef"]["params"]}
        assert task["taskRef"]["resolver"] == "cluster" and params["kind"] == "task"
        assert params["name"] in tasks and params["namespace"] == "pipeline-catalog"


def test_contract_v1_lines_up_with_the_dispatcher():
    """What run-pipeline-v1 passes is exactly what a contract-v1 pipeline accepts, types included."""
    dispatcher = _dispatcher_template("p", {}, "org-x")
    run = dispatcher["spec"]["resourcetemplates"][0]
    passed = {p["name"]: ("array" if isinstance(p["value"], list) else "string") for p in run["spec"]["params"]}
    pipeline = next(doc for doc in CATALOG_V1 if doc["metadata"]["name"] == "build-and-deploy-v1")
    accepted = {p["name"]: p.get("type", "string") for p in pipeline["spec"]["params"]}
    required = {name for name, p in ((p["name"], p) for p in pipeline["spec"]["params"]) if "default" not in p}
    assert required <= set(passed), required - set(passed)
    assert {name: accepted[name] for name in passed} == passed
    assert [w["name"] for w in run["spec"]["workspaces"]] == [w["name"] for w in pipeline["spec"]["workspaces"]]


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


def test_platform_apps_use_the_platform_project_not_the_locked_default():
    """Issue 11 item 1: ArgoCD's `default` project is locked, so the platform's own apps need a project of their own."""
    children = render("kind")
    assert {child["project"] for child in children.values()} == {"platform"}
    assert platform_root_application(children, RAW)["spec"]["project"] == "platform"


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
