"""Onboarding tenants from host_vars with playbooks/onboard.yml against the real control plane."""
from __future__ import annotations

import base64
import re

import pytest
from kubernetes import client, config

from ansible_collections.aphex.platform.plugins.module_utils.naming import TRIGGERS_V1BETA1 as TRIGGERS, sso_user
from harness.inventory import (
    lock_writes,
    module_result,
    onboard,
    org,
    pipeline,
    tenant_writes,
    unique_suffix,
    write_tunnel_inventory,
    write_inventory,
)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import CLOUDFLARED_IMAGE, event_filter
from harness.kube import get, list_labelled, wait_for
from tests.fixtures.invalid_tenants import CASES as INVALID_CASES


@pytest.fixture
def tenants(platform_apis, control_plane, tmp_path):
    """Two organizations with three pipelines, names unique to the test."""
    s = unique_suffix()
    names = {"a": f"acme{s}", "b": f"bolt{s}", "web": f"web{s}", "api": f"api{s}", "site": f"site{s}"}
    variables = {
        "aphex_organizations": [org(names["a"], f"alice@{names['a']}.io", f"ops@{names['a']}.io"),
                                org(names["b"], f"bob@{names['b']}.io")],
        "aphex_pipelines": [pipeline(names["web"], names["a"], "acme-corp/web"),
                            pipeline(names["api"], names["a"], "acme-corp/api.service_", quota={"pods": "40"}),
                            pipeline(names["site"], names["b"], "bolt/site", isolation=False)],
        "aphex_webhook_domain": "hooks.example.test",
    }
    inventory = write_inventory(tmp_path / "inventory", control_plane.admin_kubeconfig, **variables)
    return names, variables, inventory


_writes = tenant_writes


def test_onboarding_creates_the_organization_objects(tenants, platform_apis):
    names, _variables, inventory = tenants
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    api = platform_apis
    a, ns = names["a"], f"org-{names['a']}"

    namespace = get(api, "v1", "Namespace", ns)
    assert {k: v for k, v in namespace["metadata"]["labels"].items() if k.startswith("platform.aphex/")} == {
        "platform.aphex/managed-by": "aphex-platform", "platform.aphex/organization": a,
        "platform.aphex/owner-kind": "Organization", "platform.aphex/owner-name": a}
    secret = get(api, "v1", "Secret", "github-webhook-secret", ns)
    assert re.fullmatch(r"[0-9a-f]{64}", base64.b64decode(secret["data"]["secret"]).decode())

    assert get(api, "rbac.authorization.k8s.io/v1", "Role", "eso-secrets-reader", ns)["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["org-secrets"], "verbs": ["get"]}]
    store = get(api, "external-secrets.io/v1", "ClusterSecretStore", f"org-{a}-store")
    assert store["spec"]["conditions"] == [{"namespaceSelector": {"matchLabels": {"platform.aphex/organization": a}}}]
    assert store["spec"]["provider"]["kubernetes"]["remoteNamespace"] == ns
    assert store["spec"]["provider"]["kubernetes"]["auth"] == {
        "serviceAccount": {"name": "eso-secrets-reader", "namespace": ns}}

    binding = get(api, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", f"eventlistener-{a}")
    assert binding["roleRef"]["name"] == "eventlistener-access"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "eventlistener", "namespace": ns}]

    listener = get(api, TRIGGERS, "EventListener", "github-listener", ns)
    assert listener["spec"]["serviceAccountName"] == "eventlistener"
    assert listener["spec"]["namespaceSelector"] == {"matchNames": sorted([names["api"], names["web"]])}
    [group] = listener["spec"]["triggerGroups"]
    assert group["triggerSelector"] == {"labelSelector": {"matchLabels": {"platform.aphex/organization": a}}}
    [interceptor] = group["interceptors"]
    assert interceptor["ref"] == {"name": "github", "kind": "ClusterInterceptor"}
    assert {p["name"]: p["value"] for p in interceptor["params"]} == {
        "secretRef": {"secretName": "github-webhook-secret", "secretKey": "secret"},
        "eventTypes": ["push", "pull_request"]}
    assert get(api, TRIGGERS, "TriggerBinding", "github-event-binding", ns)["spec"]["params"] == [
        {"name": "git-url", "value": "$(body.repository.clone_url)"},
        {"name": "git-revision", "value": "$(extensions.git_revision)"}]

    admins = list_labelled(api, "rbac.authorization.k8s.io/v1", "RoleBinding",
                           f"platform.aphex/owner-kind=Organization,platform.aphex/owner-name={a}")
    admin_bindings = {b["metadata"]["name"]: b for b in admins if b["roleRef"]["name"] == "organization-admin"}
    assert set(admin_bindings) == {f"organization-admin-alice@{a}.io", f"organization-admin-ops@{a}.io"}
    assert admin_bindings[f"organization-admin-alice@{a}.io"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": sso_user(f"alice@{a}.io")}]

    record = get(api, "aphex.io/v1alpha1", "Organization", a, "platform-system")
    assert record["spec"] == {"displayName": f"{a.title()} Inc.", "adminUsers": [f"alice@{a}.io", f"ops@{a}.io"]}
    assert record["status"] == {"phase": "Ready", "namespace": ns, "webhookURL": f"https://{a}.hooks.example.test",
                                "message": "Organization onboarded"}


def test_onboarding_creates_the_pipeline_objects(tenants, platform_apis):
    names, _variables, inventory = tenants
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    api = platform_apis
    a, web, site, api_name = names["a"], names["web"], names["site"], names["api"]

    labels = get(api, "v1", "Namespace", web)["metadata"]["labels"]
    assert labels["platform.aphex/pipeline"] == web and labels["platform.aphex/organization"] == a
    assert labels["platform.aphex/repo"] == "acme-corp-web"
    # owner/name made into a valid label value: no trailing '_'
    assert get(api, "v1", "Namespace", api_name)["metadata"]["labels"]["platform.aphex/repo"] == "acme-corp-api.service"
    assert get(api, "v1", "ConfigMap", "pipeline-context", web)["data"] == {
        "REPO_URL": "https://github.com/acme-corp/web", "REPO_ORG": "acme-corp", "REPO_NAME": "web",
        "APHEX_ORG": a, "PIPELINE_NAME": web, "ORG_NAMESPACE": f"org-{a}"}

    tekton = get(api, "tekton.dev/v1", "Pipeline", web, web)
    assert tekton["metadata"]["labels"]["team"] == "web"
    assert [t["name"] for t in tekton["spec"]["tasks"]] == ["clone"]
    assert get(api, "tekton.dev/v1", "Pipeline", "ignored-the-module-forces-the-name", web) is None

    role = get(api, "rbac.authorization.k8s.io/v1", "Role", "pipeline-runner", web)
    assert {tuple(r["resources"]): r["verbs"] for r in role["rules"]}[("pipelineruns", "taskruns")] == [
        "get", "list", "create", "watch"]
    runner = [{"kind": "ServiceAccount", "name": "pipeline-runner", "namespace": web}]
    assert get(api, "rbac.authorization.k8s.io/v1", "RoleBinding", "pipeline-runner", web)["subjects"] == runner
    assert get(api, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", f"pipeline-runner-{web}")["subjects"] == runner
    # no rights in ArgoCD's namespace: Applications go in the pipeline's own namespace, for its own project only
    assert get(api, "rbac.authorization.k8s.io/v1", "RoleBinding", f"{web}-argocd-access", "argocd") is None

    project = get(api, "argoproj.io/v1alpha1", "AppProject", web, "argocd")["spec"]
    assert project["sourceRepos"] == ["https://github.com/acme-corp/web", "https://github.com/acme-corp/web.git"]
    assert project["sourceNamespaces"] == [web]
    assert [d["namespace"] for d in project["destinations"]] == [web]
    assert project.get("clusterResourceWhitelist", []) == []

    trigger = get(api, TRIGGERS, "Trigger", f"{web}-trigger", f"org-{a}")
    assert trigger["metadata"]["labels"]["platform.aphex/organization"] == a
    assert trigger["spec"]["interceptors"][0]["params"] == [
        {"name": "filter", "value": event_filter("acme-corp/web")},
        {"name": "overlays", "value": [{"key": "git_revision",
                                        "expression": "has(body.pull_request) ? body.pull_request.head.sha : body.after"}]}]
    assert trigger["spec"]["template"] == {"ref": f"{web}-trigger-template"}
    template = get(api, TRIGGERS, "TriggerTemplate", f"{web}-trigger-template", f"org-{a}")
    [run_template] = template["spec"]["resourcetemplates"]
    assert run_template["spec"]["taskRunTemplate"] == {"serviceAccountName": "pipeline-runner"}

    org_secret = get(api, "v1", "Secret", "github-webhook-secret", f"org-{a}")["data"]
    assert get(api, "v1", "Secret", "github-webhook-secret", web)["data"] == org_secret

    assert get(api, "v1", "ResourceQuota", "tenant-quota", web)["spec"]["hard"] == {
        "limits.cpu": "8", "limits.memory": "16Gi", "persistentvolumeclaims": "5", "pods": "20",
        "requests.cpu": "4", "requests.memory": "8Gi"}
    assert get(api, "v1", "ResourceQuota", "tenant-quota", api_name)["spec"]["hard"]["pods"] == "40"
    policy = get(api, "networking.k8s.io/v1", "NetworkPolicy", "tenant-isolation", web)["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert {"namespaceSelector": {"matchLabels": {"platform.aphex/organization": a}}} in policy["ingress"][0]["from"]
    assert get(api, "v1", "LimitRange", "tenant-limits", web)["spec"]["limits"][0]["max"] == {"cpu": "2", "memory": "4Gi"}
    for kind, api_version in (("ResourceQuota", "v1"), ("LimitRange", "v1"), ("NetworkPolicy", "networking.k8s.io/v1")):
        assert list_labelled(api, api_version, kind, f"platform.aphex/pipeline={site}") == []

    binding = get(api, "aphex.io/v1alpha1", "RepoBinding", web, "platform-system")
    assert binding["spec"] == {"aphexOrg": a, "repoOrg": "acme-corp", "repoName": "web", "pipelineName": web,
                               "templateRef": "run-pipeline-v1"}
    assert binding["status"]["phase"] == "Ready"
    assert binding["status"]["webhookURL"] == f"https://{a}.hooks.example.test"


def test_second_run_changes_nothing_and_sends_no_write(tenants, audit, admin_user):
    _names, _variables, inventory = tenants
    first = onboard(inventory)
    assert first.returncode == 0 and first.changed == 2, first.output
    mark = audit.mark()
    again = onboard(inventory)
    assert again.returncode == 0, again.output
    assert again.changed == 0
    assert _writes(audit, mark, admin_user) == []
    assert lock_writes(audit, mark, admin_user) == ["create", "delete"]
    organizations = module_result(again, "Converge the organizations")
    assert organizations["objects"] == [] and organizations["unchanged"] > 0
    assert organizations["requests"]["apply"] == 0 and organizations["requests"]["delete"] == 0


def test_check_mode_on_a_fresh_cluster_reports_and_writes_nothing(tenants, audit, admin_user, platform_apis):
    names, _variables, inventory = tenants
    mark = audit.mark()
    preview = onboard(inventory, "--check", "--diff")
    assert preview.returncode == 0, preview.output
    assert preview.changed == 2
    assert _writes(audit, mark, admin_user) == []
    assert get(platform_apis, "v1", "Namespace", f"org-{names['a']}") is None
    organizations = module_result(preview, "Converge the organizations")
    created = {(o["kind"], o.get("namespace", ""), o["name"]) for o in organizations["objects"] if o["action"] == "created"}
    assert ("Secret", f"org-{names['a']}", "github-webhook-secret") in created
    assert ("Organization", "platform-system", names["a"]) in created
    # --diff shows the desired objects, with the webhook secret redacted
    [secret_diff] = [d for d in organizations["diff"]
                     if d["after_header"] == f"Secret org-{names['a']}/github-webhook-secret"]
    assert secret_diff["after"]["data"] == {"secret": "<redacted>"}
    assert "<redacted>" in preview.output
    assert not re.search(r"[0-9a-f]{64}", preview.output)


def test_secrets_never_reach_the_output_even_at_vvv(tenants, platform_apis):
    names, _variables, inventory = tenants
    run = onboard(inventory, "-vvv", "--diff")
    assert run.returncode == 0, run.output
    secret = get(platform_apis, "v1", "Secret", "github-webhook-secret", f"org-{names['a']}")["data"]["secret"]
    assert secret not in run.output and base64.b64decode(secret).decode() not in run.output


def test_show_secrets_prints_the_webhook_url_and_secret(tenants, platform_apis):
    names, _variables, inventory = tenants
    run = onboard(inventory, "-e", "aphex_show_secrets=true")
    assert run.returncode == 0, run.output
    secret = base64.b64decode(get(platform_apis, "v1", "Secret", "github-webhook-secret",
                                  f"org-{names['a']}")["data"]["secret"]).decode()
    shown = [r["msg"] for r in run.task_results("Show the webhook endpoints and secrets for the GitHub setup",
                                                "test-cluster")[0]["results"]]
    assert (f"{names['a']}: payload URL https://{names['a']}.hooks.example.test, content type application/json, "
            f"events push and pull_request, secret {secret}") in shown


def test_webhook_secret_is_kept_across_runs_and_rotated_only_on_request(tenants, platform_apis, control_plane):
    names, variables, inventory = tenants
    assert onboard(inventory).returncode == 0
    ns = f"org-{names['a']}"
    original = get(platform_apis, "v1", "Secret", "github-webhook-secret", ns)["data"]["secret"]
    assert onboard(inventory).returncode == 0
    assert get(platform_apis, "v1", "Secret", "github-webhook-secret", ns)["data"]["secret"] == original

    variables["aphex_organizations"][0]["rotate_webhook_secret"] = True
    write_inventory(inventory, control_plane.admin_kubeconfig, **variables)
    assert onboard(inventory).returncode == 0
    rotated = get(platform_apis, "v1", "Secret", "github-webhook-secret", ns)["data"]["secret"]
    assert rotated != original
    # the pipelines' copies follow the organization's secret
    assert get(platform_apis, "v1", "Secret", "github-webhook-secret", names["web"])["data"]["secret"] == rotated
    assert get(platform_apis, "v1", "Secret", "github-webhook-secret", f"org-{names['b']}")["data"]["secret"] != rotated


def test_editing_a_tenant_updates_only_what_changed(tenants, platform_apis, audit, admin_user, control_plane):
    names, variables, inventory = tenants
    assert onboard(inventory).returncode == 0
    a = names["a"]
    variables["aphex_organizations"][0]["admin_users"] = [f"alice@{a}.io", f"new@{a}.io"]  # ops removed, new added
    variables["aphex_pipelines"][0]["quota"] = {"pods": "50"}
    variables["aphex_pipelines"][1]["repo"] = "acme-corp/api-v2"
    write_inventory(inventory, control_plane.admin_kubeconfig, **variables)
    mark = audit.mark()
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    writes = set(_writes(audit, mark, admin_user))
    ns = f"org-{a}"
    assert writes == {
        ("delete", "rolebindings", ns, f"organization-admin-ops@{a}.io"),
        ("patch", "rolebindings", ns, f"organization-admin-new@{a}.io"),
        ("patch", "organizations", "platform-system", a),
        ("patch", "resourcequotas", names["web"], "tenant-quota"),
        # the organization's admins changed: its pipelines' AppProject roles in ArgoCD follow (issue 24 item 3)
        ("patch", "appprojects", "argocd", names["web"]),
        ("patch", "namespaces", names["api"], names["api"]),  # the audit log names a namespace as its own
        ("patch", "configmaps", names["api"], "pipeline-context"),
        ("patch", "appprojects", "argocd", names["api"]),
        ("patch", "triggers", ns, f"{names['api']}-trigger"),
        ("patch", "repobindings", "platform-system", names["api"]),
    }
    assert get(platform_apis, "v1", "ResourceQuota", "tenant-quota", names["web"])["spec"]["hard"]["pods"] == "50"
    trigger = get(platform_apis, TRIGGERS, "Trigger", f"{names['api']}-trigger", ns)
    assert trigger["spec"]["interceptors"][0]["params"][0]["value"] == event_filter("acme-corp/api-v2")


def _tenant_objects(api, selector):
    """Every object still labelled with the selector, across the kinds the tenants use (cluster-scoped too)."""
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import ORGANIZATION_KINDS, PIPELINE_KINDS

    found = []
    for api_version, kind in dict.fromkeys(ORGANIZATION_KINDS + PIPELINE_KINDS):
        found += [f"{kind}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
                  for o in list_labelled(api, api_version, kind, selector)
                  if not o["metadata"].get("deletionTimestamp")]
    return found


def test_removing_a_pipeline_removes_everything_it_owns(tenants, platform_apis, control_plane):
    names, variables, inventory = tenants
    assert onboard(inventory).returncode == 0
    api, web, a = platform_apis, names["web"], names["a"]
    # an Application the pipeline deployed through ArgoCD goes with it
    application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                   "metadata": {"name": f"{web}-app", "namespace": "argocd", "labels": {"platform.aphex/pipeline": web}},
                   "spec": {"project": web, "destination": {"server": "https://kubernetes.default.svc", "namespace": web},
                            "source": {"repoURL": "https://github.com/acme-corp/web", "path": "deploy"}}}
    from kubernetes import dynamic

    dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1", kind="Application").create(
        body=application, namespace="argocd")
    variables["aphex_pipelines"][0]["state"] = "absent"
    write_inventory(inventory, control_plane.admin_kubeconfig, **variables)
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    assert get(api, "argoproj.io/v1alpha1", "Application", f"{web}-app", "argocd") is None
    assert get(api, "argoproj.io/v1alpha1", "AppProject", web, "argocd") is None
    assert get(api, "rbac.authorization.k8s.io/v1", "ClusterRole", f"pipeline-runner-{web}") is None
    assert get(api, "rbac.authorization.k8s.io/v1", "RoleBinding", f"{web}-argocd-access", "argocd") is None
    assert get(api, TRIGGERS, "Trigger", f"{web}-trigger", f"org-{a}") is None
    listener = get(api, TRIGGERS, "EventListener", "github-listener", f"org-{a}")
    assert listener["spec"]["namespaceSelector"]["matchNames"] == [names["api"]]
    assert wait_for(lambda: _tenant_objects(api, f"platform.aphex/pipeline={web}") == [], timeout=60), \
        _tenant_objects(api, f"platform.aphex/pipeline={web}")
    assert get(api, "v1", "Namespace", names["api"]) is not None  # the sibling pipeline stays


def test_removing_an_organization_with_pipelines_needs_cascade(tenants, platform_apis, control_plane, audit,
                                                               admin_user):
    names, variables, inventory = tenants
    assert onboard(inventory).returncode == 0
    api, a = platform_apis, names["a"]
    variables["aphex_organizations"][0]["state"] = "absent"
    variables["aphex_pipelines"] = [p for p in variables["aphex_pipelines"] if p["organization"] != a]
    write_inventory(inventory, control_plane.admin_kubeconfig, **variables)
    mark = audit.mark()
    refused = onboard(inventory)
    assert refused.returncode != 0
    message = module_result(refused, "Converge the organizations")["msg"]
    assert message == (f"organization '{a}' still has pipelines {names['api']}, {names['web']}: remove them first "
                       "or set cascade: true on the organization")
    assert _writes(audit, mark, admin_user) == []

    variables["aphex_organizations"][0]["cascade"] = True
    write_inventory(inventory, control_plane.admin_kubeconfig, **variables)
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    assert get(api, "aphex.io/v1alpha1", "Organization", a, "platform-system") is None
    assert wait_for(lambda: _tenant_objects(api, f"platform.aphex/organization={a}") == [], timeout=90), \
        _tenant_objects(api, f"platform.aphex/organization={a}")
    assert get(api, "v1", "Namespace", f"org-{names['b']}") is not None  # the other organization stays


def test_prune_removes_managed_tenants_missing_from_inventory(fresh_control_plane, tmp_path):
    api = config.new_client_from_config(config_file=str(fresh_control_plane.admin_kubeconfig))
    kubeconfig = fresh_control_plane.admin_kubeconfig
    everyone = {"aphex_organizations": [org("keep"), org("gone")],
                "aphex_pipelines": [pipeline("keep-web", "keep", "keep/web"), pipeline("gone-web", "gone", "gone/web")]}
    inventory = write_inventory(tmp_path / "inventory", kubeconfig, **everyone)
    assert onboard(inventory).returncode == 0
    # somebody else's namespace, not managed by the collection, must survive a prune
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "hand-made"}})

    fewer = {"aphex_organizations": [org("keep")], "aphex_pipelines": [pipeline("keep-web", "keep", "keep/web")],
             "aphex_prune_tenants": True}
    write_inventory(inventory, kubeconfig, **fewer)
    # two of the four tenants is more than a small share: named and refused, in check mode too
    for args in ((), ("--check",)):
        refused = onboard(inventory, *args)
        assert refused.returncode != 0
        assert module_result(refused, "Converge the organizations")["msg"].endswith(
            "It would remove organizations: gone; pipelines: gone-web. If the inventory is complete and this is "
            "intended, run again with -e aphex_prune_confirm=2")
    assert get(api, "v1", "Namespace", "org-gone") is not None
    preview = onboard(inventory, "--check", "-e", "aphex_prune_confirm=2")
    assert preview.returncode == 0, preview.output
    listed = {(o["kind"], o["name"]) for o in module_result(preview, "Converge the organizations")["objects"]
              if o["action"] == "deleted"}
    assert {("Namespace", "org-gone"), ("Namespace", "gone-web"), ("Organization", "gone")} <= listed
    assert get(api, "v1", "Namespace", "org-gone") is not None  # check mode only lists them

    run = onboard(inventory, "-e", "aphex_prune_confirm=2")
    assert run.returncode == 0, run.output
    assert wait_for(lambda: _tenant_objects(api, "platform.aphex/organization=gone") == [], timeout=90)
    assert get(api, "v1", "Namespace", "org-keep") is not None and get(api, "v1", "Namespace", "keep-web") is not None
    assert get(api, "v1", "Namespace", "hand-made") is not None
    assert onboard(inventory).changed == 0


@pytest.mark.parametrize("organizations, pipelines, message", [c[1:] for c in INVALID_CASES],
                         ids=[c[0] for c in INVALID_CASES])
def test_each_invalid_input_is_refused_by_the_playbook_with_its_message_and_no_write(
        organizations, pipelines, message, platform_apis, control_plane, audit, admin_user, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", control_plane.admin_kubeconfig,
                                aphex_organizations=organizations, aphex_pipelines=pipelines)
    mark = audit.mark()
    run = onboard(inventory)
    assert run.returncode != 0
    problems = module_result(run, "Validate the tenant inventory")["problems"]
    assert any(problem.startswith(message) for problem in problems), problems
    assert audit.events(since=mark, user=admin_user) == []  # refused before connecting: not even a read


def test_invalid_inventory_fails_listing_every_problem_and_writes_nothing(platform_apis, control_plane, audit,
                                                                          admin_user, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", control_plane.admin_kubeconfig, aphex_organizations=[
        org("good"), org("Bad-Name"), org("nomail", "not-an-email")],
        aphex_pipelines=[pipeline("good-web", "good", "good/web"), pipeline("orphan", "ghost", "x/y"),
                         pipeline("badyaml", "good", "good/y", pipeline="kind: Task\napiVersion: tekton.dev/v1\n")])
    mark = audit.mark()
    run = onboard(inventory)
    assert run.returncode != 0
    result = module_result(run, "Validate the tenant inventory")
    assert result["problems"] == [
        "aphex_organizations[Bad-Name].name: 'Bad-Name' is not a DNS label (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit)",
        "aphex_organizations[nomail].admin_users[0]: 'not-an-email' is not a valid email address",
        "aphex_pipelines[orphan].organization: 'ghost' is not in aphex_organizations",
        "aphex_pipelines[badyaml].pipeline: kind is 'Task', expected 'Pipeline'",
        "aphex_pipelines[badyaml].pipeline: spec is missing",
    ]
    assert _writes(audit, mark, admin_user) == []
    assert get(platform_apis, "v1", "Namespace", "org-good") is None


def test_missing_platform_apis_are_named_with_the_app_that_provides_them(bare_control_plane, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", bare_control_plane.admin_kubeconfig,
                                aphex_organizations=[org("acme")])
    run = onboard(inventory)
    assert run.returncode != 0
    message = module_result(run, "Converge the organizations")["msg"]
    assert "the cluster does not serve ClusterSecretStore (external-secrets.io/v1): install the platform app " \
           "'external-secrets' first" in message
    assert "EventListener (triggers.tekton.dev/v1beta1): install the platform app 'tekton-triggers' first" in message
    assert "Organization (aphex.io/v1alpha1): install the platform app 'platform-crds' first" in message
    api = config.new_client_from_config(config_file=str(bare_control_plane.admin_kubeconfig))
    assert get(api, "v1", "Namespace", "org-acme") is None


def _allowed(api, user, verb, resource, namespace=None, group="", groups=()):
    review = client.AuthorizationV1Api(api).create_subject_access_review({
        "spec": {"user": user, "groups": list(groups), "resourceAttributes": {
            "verb": verb, "resource": resource, "group": group, **({"namespace": namespace} if namespace else {})}}})
    return review.status.allowed


def test_tenants_are_isolated_from_each_other(tenants, platform_apis):
    names, _variables, inventory = tenants
    assert onboard(inventory).returncode == 0
    api, a, b = platform_apis, names["a"], names["b"]
    admin_a = sso_user(f"alice@{a}.io")  # as the kube-apiserver names her once signed in
    # org A's admin works in A ...
    assert _allowed(api, admin_a, "get", "secrets", f"org-{a}")
    assert _allowed(api, admin_a, "list", "pipelineruns", f"org-{a}", "tekton.dev")
    # ... and can neither read nor write anything of B's
    for namespace in (f"org-{b}", names["site"]):
        for verb, resource, group in (("get", "secrets", ""), ("list", "configmaps", ""), ("create", "pods", ""),
                                      ("delete", "pipelines", "tekton.dev"), ("list", "pipelineruns", "tekton.dev"),
                                      ("update", "eventlisteners", "triggers.tekton.dev")):
            assert not _allowed(api, admin_a, verb, resource, namespace, group), (verb, resource, namespace)

    runner_a = f"system:serviceaccount:{names['web']}:pipeline-runner"
    runner_groups = ("system:serviceaccounts", f"system:serviceaccounts:{names['web']}", "system:authenticated")
    assert _allowed(api, runner_a, "create", "pipelineruns", names["web"], "tekton.dev", runner_groups)
    assert _allowed(api, runner_a, "get", "secrets", names["web"], "", runner_groups)
    for namespace in (names["site"], f"org-{b}", f"org-{a}"):
        for verb, resource, group in (("get", "secrets", ""), ("create", "pods", ""),
                                      ("create", "pipelineruns", "tekton.dev")):
            assert not _allowed(api, runner_a, verb, resource, namespace, group, runner_groups), (verb, resource, namespace)
    for verb, resource, group in (("create", "namespaces", ""), ("create", "clusterroles", "rbac.authorization.k8s.io"),
                                  ("list", "secrets", ""), ("delete", "clustersecretstores", "external-secrets.io")):
        assert not _allowed(api, runner_a, verb, resource, None, group, runner_groups), (verb, resource)
    # the runner reads cluster interceptors (its ClusterRole) but may not change them
    assert _allowed(api, runner_a, "list", "clusterinterceptors", None, "triggers.tekton.dev", runner_groups)
    assert not _allowed(api, runner_a, "delete", "clusterinterceptors", None, "triggers.tekton.dev", runner_groups)


def test_onboarding_with_tunnels_creates_token_secret_and_connector_and_reruns_as_a_noop(
        platform_apis, control_plane, audit, admin_user, tmp_path):
    from harness.cloudflare.server import FakeCloudflare

    fake = FakeCloudflare("cf-e2e-token", zones=("hooks.example.test",)).start()
    try:
        s = unique_suffix()
        acme = f"acme{s}"
        inventory = write_tunnel_inventory(
            tmp_path / "inventory", control_plane.admin_kubeconfig, fake, "cf-e2e-token",
            aphex_organizations=[org(acme)], aphex_pipelines=[pipeline(f"web{s}", acme, "acme/web")])
        run = onboard(inventory, "-vvv")
        assert run.returncode == 0, run.output
        ns = f"org-{acme}"
        [tunnel] = [t for t in fake.state.tunnels.values() if t["name"] == f"webhooks-{acme}"]
        token = base64.b64decode(get(platform_apis, "v1", "Secret", "cloudflared-token", ns)["data"]["token"]).decode()
        assert base64.b64decode(token)  # the token as Cloudflare issued it
        assert '"t": "%s"' % tunnel["id"] in base64.b64decode(token).decode()
        assert token not in run.output and "cf-e2e-token" not in run.output

        deployment = get(platform_apis, "apps/v1", "Deployment", "cloudflared", ns)
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert deployment["spec"]["replicas"] == 2
        assert container["image"] == CLOUDFLARED_IMAGE  # the role leaves the image to the module
        assert container["env"] == [{"name": "TUNNEL_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": "cloudflared-token", "key": "token"}}}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}

        record = get(platform_apis, "aphex.io/v1alpha1", "Organization", acme, "platform-system")["status"]
        assert record["webhookURL"] == f"https://{acme}.hooks.example.test"
        assert f"webhooks-{acme}" in record["message"]

        cf_mark, mark = len(fake.state.requests), audit.mark()
        again = onboard(inventory)
        assert again.returncode == 0 and again.changed == 0, again.output
        assert _writes(audit, mark, admin_user) == []
        assert [r for r in fake.state.requests[cf_mark:] if r["method"] != "GET"] == []

        # removing the organization removes its tunnel and its DNS record
        write_tunnel_inventory(inventory, control_plane.admin_kubeconfig, fake, "cf-e2e-token",
                               aphex_organizations=[{"name": acme, "state": "absent", "cascade": True}])
        removed = onboard(inventory)
        assert removed.returncode == 0, removed.output
        assert fake.state.tunnels[tunnel["id"]]["deleted_at"] is not None
        assert all(not records for records in fake.state.records.values())
        assert get(platform_apis, "aphex.io/v1alpha1", "Organization", acme, "platform-system") is None
    finally:
        fake.stop()


def test_without_cloudflare_credentials_tunnels_are_skipped_with_one_warning(tenants, platform_apis):
    names, _variables, inventory = tenants
    run = onboard(inventory, extra_env={"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_ACCOUNT_ID": ""})
    assert run.returncode == 0, run.output
    [organizations] = run.task_results("Converge the organizations", "test-cluster")
    # one warning about tunnels (the shared control plane's other tenants add an "unlisted" warning of their own)
    assert [w for w in organizations["warnings"] if "Cloudflare" in w] == [
        "Cloudflare tunnels are off (no Cloudflare credentials: aphex_cloudflare_api_token, "
        "aphex_cloudflare_account_id, aphex_cloudflare_zone): organizations get no public webhook URL"]
    assert run.task_results("Converge the organizations' Cloudflare tunnels", "test-cluster")[0].get("skipped")
    assert get(platform_apis, "apps/v1", "Deployment", "cloudflared", f"org-{names['a']}") is None
