"""Issue 10 item 1: every Helm source of the catalog names a chart that exists (the upstream archives in
../shared/charts), and every values key it sets is one the chart reads; Helm's values.schema.json validation
passes where a chart (or subchart) ships one."""
import copy

import pytest
import yaml

from harness.platform.charts import schema_problems, shared_charts, unknown_values

from harness.platform.catalog import role_defaults
DEFAULTS = role_defaults()
CATALOG = DEFAULTS["platform_apps_catalog"]
CHARTS = shared_charts()
# Maps whose keys the user names (node labels, listener names): any key is valid below them.
FREE_FORM = {"ingress-nginx": ("controller.nodeSelector",), "traefik": ("gateway.listeners",)}
HELM_APPS = [entry for entry in CATALOG if "helm" in entry["source"]]


def chart_of(helm):
    return CHARTS.get((helm["chart"], str(helm["version"])))


@pytest.mark.parametrize("entry", HELM_APPS, ids=[e["name"] for e in HELM_APPS])
def test_each_helm_app_names_a_published_chart_and_version(entry):
    helm = entry["source"]["helm"]
    assert chart_of(helm), f"{entry['name']}: no upstream chart {helm['chart']} {helm['version']}"


@pytest.mark.parametrize("key", ["platform_apps_chart", "platform_raw_chart"])
def test_the_root_and_raw_charts_exist(key):
    assert chart_of(DEFAULTS[key])


@pytest.mark.parametrize("entry", HELM_APPS, ids=[e["name"] for e in HELM_APPS])
def test_every_values_key_is_read_by_the_chart(entry):
    helm = entry["source"]["helm"]
    assert unknown_values(helm.get("values") or {}, chart_of(helm), FREE_FORM.get(entry["name"], ())) == []


@pytest.mark.parametrize("entry", HELM_APPS, ids=[e["name"] for e in HELM_APPS])
def test_values_pass_the_charts_schemas(entry):
    helm = entry["source"]["helm"]
    assert schema_problems(helm.get("values") or {}, chart_of(helm)) == []


def test_the_values_the_collection_gives_its_own_charts_are_read():
    apps = chart_of(DEFAULTS["platform_apps_chart"])
    raw = chart_of(DEFAULTS["platform_raw_chart"])
    assert unknown_values({"applications": {"x": {}}}, apps) == []
    assert unknown_values({"resources": [{"kind": "ConfigMap"}]}, raw) == []


def test_the_check_finds_a_key_the_chart_does_not_define():
    """The defect it guards against: `imageRegistry` was set on tekton-pipeline, which has no such value, and
    silently did nothing; a dependency switch or a key nested under a subchart is checked the same way."""
    pipeline = chart_of({"chart": "tekton-pipeline", "version": "1.6.0"})
    assert unknown_values({"imageRegistry": "ghcr.io/x", "controller": {"nodeSelector": {}}}, pipeline) == [
        "imageRegistry"]
    authentik = chart_of({"chart": "authentik", "version": "2025.10.2"})
    assert unknown_values({"postgresql": {"enabled": True, "primry": {}}}, authentik) == ["postgresql.primry"]


def test_the_schema_check_refuses_a_wrong_type():
    entry = copy.deepcopy(next(e for e in HELM_APPS if e["name"] == "cert-manager"))
    entry["source"]["helm"]["values"]["crds"]["enabled"] = "yes"
    problems = schema_problems(entry["source"]["helm"]["values"], chart_of(entry["source"]["helm"]))
    assert problems and problems[0].startswith("crds.enabled:")


def test_tekton_triggers_and_dashboard_come_from_release_manifests():
    """Issue 10: the catalog named charts tekton-triggers 0.34.0 and tekton-dashboard 0.64.0 that upstream never
    published; they are release manifests now, each with an upstream URL and the version in its path."""
    releases = DEFAULTS["platform_release_manifests"]
    for name in ("tekton-triggers", "tekton-dashboard"):
        entry = next(e for e in CATALOG if e["name"] == name)
        assert entry["source"]["manifests"] == name
        release = releases[name]
        assert release["files"] and all(
            f["url"].startswith("https://") and f"/{release['version']}/" in f["url"] and f["url"].endswith(f["name"])
            for f in release["files"])


def test_the_triggers_patch_names_an_object_of_the_upstream_release_and_sets_its_client_limits(tmp_path):
    """The core interceptors' client limits (make bench: 71 of 100 deliveries dropped under the default 5/s) are
    a patch of the upstream release: it must name exactly one object of it, or rendering fails."""
    from harness.platform.catalog import folder_documents, rendered_platform
    from harness.platform.releases import build_release_manifests

    folders = build_release_manifests(tmp_path)
    children = rendered_platform("kind", "aphex.test", release_sets={
        name: folder_documents(folder) for name, folder in folders.items()})["applications"]
    resources = children["tekton-triggers"]["source"]["helm"]["valuesObject"]["resources"]
    [deployment] = [r for r in resources if r["kind"] == "Deployment"
                    and r["metadata"]["name"] == "tekton-triggers-core-interceptors"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["KUBE_API_QPS"] == "50" and env["KUBE_API_BURST"] == "100"
    assert env["INTERCEPTOR_TLS_SVC_NAME"] == "tekton-triggers-core-interceptors"  # upstream's own kept
    assert container["image"].startswith("ghcr.io/tektoncd/triggers/cmd/interceptors:")
    # Applied after the ClusterInterceptors (wave 0, as every other object of the release), into which the
    # program puts its CA once, when it starts.
    assert deployment["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "1"
    interceptors = [r for r in resources if r["kind"] == "ClusterInterceptor"]
    assert {r["metadata"]["name"] for r in interceptors} >= {"cel", "github"}
    assert all("argocd.argoproj.io/sync-wave" not in (r["metadata"].get("annotations") or {}) for r in resources
               if r is not deployment)


def test_oauth2_proxy_fronts_the_dashboard_the_release_manifest_deploys(tmp_path):
    """The dashboard's release manifest installs into its own namespace (tekton-dashboard, by its kustomization),
    not tekton-pipelines where the old chart was assumed to put it: oauth2-proxy's upstream must be its Service."""
    from harness.platform.releases import build_release_manifests

    folder = build_release_manifests(tmp_path)["tekton-dashboard"]
    services = [doc for doc in yaml.safe_load_all((folder / "release.yaml").read_text())
                if doc and doc["kind"] == "Service"]
    upstreams = {f"http://{s['metadata']['name']}.{s['metadata']['namespace']}.svc:{p['port']}"
                 for s in services for p in s["spec"]["ports"]}
    auth = next(e for e in CATALOG if e["name"] == "tekton-dashboard-auth")
    assert auth["source"]["helm"]["values"]["extraArgs"]["upstream"] in upstreams
    dashboard = next(e for e in CATALOG if e["name"] == "tekton-dashboard")
    assert {s["metadata"]["namespace"] for s in services} == {dashboard["namespace"]}
