"""Rendering tenants: names, labels and the choices that integration tests do not cover."""
from __future__ import annotations

import json
import re

import celpy
import pytest
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import BUILTIN_KIND_ORDER, plan
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
    APPLY_ORDER, EVENT_TYPES, ORGANIZATION_KINDS, PIPELINE_KINDS, TRIGGER_BINDING_NAME, TenancySettings,
    ingress_domain, pod_security_labels, render_organization, render_pipeline)

from tests.unit.fixtures.paths import FIXTURES


DOCUMENT = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "x"}, "spec": {"tasks": []}}
PIPELINE = {"name": "web", "organization": "acme", "repo": "acme/web"}


def _by_kind(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_restricted_egress_allows_dns_and_public_addresses_only():
    settings = TenancySettings(egress="restricted")
    policy = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", settings))[("NetworkPolicy", "tenant-isolation")]
    egress = policy["spec"]["egress"]
    assert egress[1]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert egress[2]["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0",
                                             "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}
    open_policy = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings()))[("NetworkPolicy", "tenant-isolation")]
    assert open_policy["spec"]["egress"] == [{}]


def test_isolation_can_be_turned_off_platform_wide_and_back_on_per_pipeline():
    off = TenancySettings(isolation=False)
    kinds = {o["kind"] for o in render_pipeline(PIPELINE, DOCUMENT, "", off)}
    assert not kinds & {"ResourceQuota", "LimitRange", "NetworkPolicy"}
    kinds = {o["kind"] for o in render_pipeline({**PIPELINE, "isolation": True}, DOCUMENT, "", off)}
    assert {"ResourceQuota", "LimitRange", "NetworkPolicy"} <= kinds


def test_without_a_webhook_domain_the_status_says_why_there_is_no_url():
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["a@acme.io"]}
    record = _by_kind(render_organization(org, [], "", TenancySettings()))[("Organization", "acme")]
    assert record["status"]["webhookURL"] == ""
    assert "Cloudflare tunnels are not configured" in record["status"]["message"]
    with_domain = _by_kind(render_organization(org, [], "", TenancySettings(webhook_domain="hooks.io")))
    assert with_domain[("Organization", "acme")]["status"]["webhookURL"] == "https://acme.hooks.io"


def test_the_organizations_secrets_are_made_empty_and_its_store_reads_them_alone():
    """Issue 23 item 5: the store read org-secrets, which nobody but a cluster admin could write."""
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["a@acme.io"]}
    objects = _by_kind(render_organization(org, ["web"], "", TenancySettings()))
    secret = objects[("Secret", "org-secrets")]
    assert secret["type"] == "Opaque" and "data" not in secret and "stringData" not in secret
    assert secret["metadata"]["namespace"] == "org-acme"
    [rule] = objects[("Role", "eso-secrets-reader")]["rules"]
    assert (rule["resourceNames"], rule["verbs"]) == (["org-secrets"], ["get"])


def test_every_object_carries_the_ownership_labels():
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["a@acme.io"]}
    for obj in render_organization(org, ["web"], "", TenancySettings()):
        assert obj["metadata"]["labels"]["platform.aphex/owner-kind"] == "Organization", obj["kind"]
    for obj in render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings()):
        labels = obj["metadata"]["labels"]
        assert (labels["platform.aphex/owner-kind"], labels["platform.aphex/pipeline"]) == ("Pipeline", "web"), obj["kind"]
        assert labels["platform.aphex/managed-by"] == "aphex-platform"


def _ingress_from(settings):
    policy = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", settings))[("NetworkPolicy", "tenant-isolation")]
    return policy["spec"]["ingress"][0]["from"]


def test_network_policy_admits_exactly_the_ingress_namespaces_it_is_given():
    """Issue 11 item 3: the allowed namespaces were a fixed list (ingress-nginx, traefik, tekton-pipelines) while the
    kind catalog installs ingress-nginx into ingress-system; they now come from the deployed catalog."""
    assert _ingress_from(TenancySettings(ingress_namespaces=["ingress-system"]))[2] == {"namespaceSelector": {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ingress-system"]}]}}
    # none given: the pipeline's own pods and its organization only (an empty `In` would be refused by the API)
    assert _ingress_from(TenancySettings()) == [
        {"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"platform.aphex/organization": "acme"}}}]


def test_a_pipeline_deploys_only_through_its_own_project_into_its_own_namespace():
    """Issue 11 item 1: the runner could write any Application in ArgoCD's namespace (project default, another
    tenant's, platform-root); and `<name>-*` destinations reached every namespace sharing the prefix."""
    objects = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings()))
    project = objects[("AppProject", "web")]["spec"]
    assert project["sourceNamespaces"] == ["web"]
    assert project["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "web"}]
    assert project["clusterResourceWhitelist"] == []
    assert {(k["group"], k["kind"]) for k in project["namespaceResourceBlacklist"]} == {
        ("", "ResourceQuota"), ("", "LimitRange"), ("networking.k8s.io", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "RoleBinding")}
    assert not [key for key in objects if key[0] == "RoleBinding" and key[1].endswith("-argocd-access")]
    [applications] = [rule for rule in objects[("Role", "pipeline-runner")]["rules"]
                      if rule["apiGroups"] == ["argoproj.io"]]
    assert applications["resources"] == ["applications"]


def test_a_pipeline_deploys_from_its_own_repository_on_the_platforms_git_server_only():
    repo = PIPELINE["repo"]
    github = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings()))[("AppProject", "web")]["spec"]
    assert github["sourceRepos"] == [f"https://github.com/{repo}", f"https://github.com/{repo}.git"]
    enterprise = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings(
        git_server_url="https://git.example.com")))[("AppProject", "web")]["spec"]
    assert enterprise["sourceRepos"] == [f"https://git.example.com/{repo}", f"https://git.example.com/{repo}.git"]


def _every_variant():
    """Objects of an organization and a pipeline with every option that adds a kind turned on."""
    org = {"name": "acme", "display_name": "Acme", "admin_users": ["admin@acme.io"]}
    settings = TenancySettings(webhook_domain="hooks.example.com", tunnels=True, egress="restricted")
    return (render_organization(org, ["web"], "c2VjcmV0", settings),
            render_pipeline(PIPELINE, DOCUMENT, "c2VjcmV0", settings))


def test_every_rendered_kind_is_read_by_the_converge_and_has_its_place_in_the_apply_order():
    """The kinds a tenant owns are declared once, next to the renderers: a kind rendered but not declared would be
    re-applied on every run (never read back), a declared one never rendered is read for nothing."""
    organization, pipeline = _every_variant()
    org_kinds = {(o["apiVersion"], o["kind"]) for o in organization}
    pipeline_kinds = {(o["apiVersion"], o["kind"]) for o in pipeline}
    assert org_kinds == set(ORGANIZATION_KINDS)
    assert pipeline_kinds == set(PIPELINE_KINDS)
    placed = set(BUILTIN_KIND_ORDER) | set(APPLY_ORDER)
    assert (org_kinds | pipeline_kinds) - placed == set()


def test_a_tenants_records_are_written_after_what_they_describe():
    organization, pipeline = _every_variant()
    for objects, record in ((organization, "Organization"), (pipeline, "RepoBinding")):
        written = [change.key[1] for change in plan(objects, {}, [], order=APPLY_ORDER).changes]
        assert written[-1] == record
        assert written[0] == "Namespace"
        assert written.index("Role") < written.index("RoleBinding")


# Issue 11 item 6: the EventListener accepted pull_request events, but the binding read the push-only field
# `body.after`, so a pull request either started a run of the wrong commit or none at all. The pipeline's Trigger
# now filters to the events it can build and puts the commit to build in extensions.git_revision; these tests run
# its CEL filter and overlay (cel-python, the CEL language Tekton's cel interceptor evaluates) and then the
# organization's TriggerBinding over GitHub webhook payloads of each shape.
PAYLOADS = FIXTURES / "github"
HEAD = "4f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"

# file, X-GitHub-Event, whether a run starts, the commit it builds
CASES = [
    ("push.json", "push", True, HEAD),
    ("push-branch-deleted.json", "push", False, None),
    ("pull_request-opened.json", "pull_request", True, HEAD),
    ("pull_request-synchronize.json", "pull_request", True, HEAD),
    ("pull_request-reopened.json", "pull_request", True, HEAD),
    ("pull_request-closed.json", "pull_request", False, None),
    ("pull_request-labeled.json", "pull_request", False, None),
]


def _objects(kind: str, **pipeline_settings) -> list:
    settings = TenancySettings()
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["admin@acme.io"]}
    pipeline = {"name": "web", "organization": "acme", "repo": "acme-corp/web", **pipeline_settings}
    objects = render_organization(org, ["web"], "c2VjcmV0", settings)
    objects += render_pipeline(pipeline, DOCUMENT, "c2VjcmV0", settings)
    return [o for o in objects if o["kind"] == kind]


def _cel(expression: str, body: dict, event: str, extensions=None):
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    return program.evaluate({"body": celpy.json_to_cel(body),
                             "header": celpy.json_to_cel({"X-Github-Event": [event]}),
                             "extensions": celpy.json_to_cel(extensions or {})})


def _resolve(value: str, body: dict, extensions: dict, header: dict) -> str:
    """A TriggerBinding value as Tekton resolves it: each $(body.a.b) / $(extensions.k) / $(header.H) must exist."""
    def one(match):
        root, *path = match.group(1).split(".")
        node = {"body": body, "extensions": extensions, "header": header}[root]
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"{match.group(0)} does not exist in the event")
            node = node[part]
        return node if isinstance(node, str) else json.dumps(node)
    return re.sub(r"\$\(([^)]+)\)", one, value)


def _deliver(name: str, event: str, author=None, **pipeline_settings):
    """What one delivery gives the pipeline: None when filtered out, else the binding's parameters."""
    body = json.loads((PAYLOADS / name).read_text())
    if author:
        body["pull_request"]["author_association"] = author
    [listener] = _objects("EventListener")
    interceptor = listener["spec"]["triggerGroups"][0]["interceptors"][0]
    accepted = {p["name"]: p["value"] for p in interceptor["params"]}["eventTypes"]
    if event not in accepted:
        return None
    [trigger] = _objects("Trigger", **pipeline_settings)
    params = {p["name"]: p["value"] for p in trigger["spec"]["interceptors"][0]["params"]}
    if not bool(_cel(params["filter"], body, event)):
        return None
    extensions = {overlay["key"]: str(_cel(overlay["expression"], body, event)) for overlay in params["overlays"]}
    [binding] = _objects("TriggerBinding")
    assert binding["metadata"]["name"] == TRIGGER_BINDING_NAME
    assert trigger["spec"]["bindings"][0] == {"ref": TRIGGER_BINDING_NAME}
    header = {"X-Github-Event": event, "X-Github-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    return {p["name"]: _resolve(p["value"], body, extensions, header) for p in binding["spec"]["params"]}


@pytest.mark.parametrize("name, event, runs, revision", CASES, ids=[c[0] for c in CASES])
def test_each_github_event_either_runs_the_right_commit_or_is_filtered_out(name, event, runs, revision):
    """Issue 11 item 6: every accepted event can be read by the binding; the commit built is the event's own."""
    params = _deliver(name, event)
    if not runs:
        assert params is None
        return
    assert params == {"git-url": "https://github.com/acme-corp/web.git", "git-revision": revision}


def test_pull_requests_from_forks_build_from_the_base_repository():
    """The fork's URL is never cloned: the head commit is fetched from the tenant's own repository."""
    params = _deliver("pull_request-opened.json", "pull_request")
    body = json.loads((PAYLOADS / "pull_request-opened.json").read_text())
    assert body["pull_request"]["head"]["repo"]["clone_url"] != params["git-url"]


def test_events_of_another_repository_are_filtered_out():
    body = json.loads((PAYLOADS / "push.json").read_text())
    body["repository"]["full_name"] = "acme-corp/other"
    [trigger] = _objects("Trigger")
    params = {p["name"]: p["value"] for p in trigger["spec"]["interceptors"][0]["params"]}
    assert not bool(_cel(params["filter"], body, "push"))


def test_the_listener_accepts_exactly_the_events_the_filter_handles():
    assert EVENT_TYPES == ("push", "pull_request")
    assert _deliver("push.json", "issues") is None


def test_tenant_namespaces_enforce_pod_security_and_warn_about_restricted():
    """Issue 23 item 6: a pipeline's namespace enforces baseline (buildah-build-v1 needs SETUID and SETGID, which
    restricted refuses), an organization's restricted; both warn about and audit what restricted would refuse."""
    org_namespace, pipeline_namespace = (next(o for o in objects if o["kind"] == "Namespace") for objects in (
        render_organization({"name": "acme", "display_name": "A", "admin_users": []}, ["web"], "", TenancySettings()),
        render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings())))

    def modes(namespace):
        return {key.split("/", 1)[1]: value for key, value in namespace["metadata"]["labels"].items()
                if key.startswith("pod-security.kubernetes.io/")}
    assert modes(pipeline_namespace) == {"enforce": "baseline", "enforce-version": "latest", "warn": "restricted",
                                         "warn-version": "latest", "audit": "restricted", "audit-version": "latest"}
    assert modes(org_namespace)["enforce"] == "restricted"
    assert pod_security_labels("baseline") == {f"pod-security.kubernetes.io/{key}": value
                                               for key, value in modes(pipeline_namespace).items()}


def test_a_pipeline_may_route_its_own_subdomain_of_the_apps_domain_only():
    with_domain = TenancySettings(apps_domain="apps.example.com")
    [namespace] = [o for o in render_pipeline(PIPELINE, DOCUMENT, "", with_domain) if o["kind"] == "Namespace"]
    assert namespace["metadata"]["annotations"] == {"platform.aphex/ingress-domain": "web.apps.example.com"}
    assert ingress_domain("web", TenancySettings()) == ""


@pytest.mark.parametrize("author, runs", [("OWNER", True), ("MEMBER", True), ("COLLABORATOR", True),
                                          ("CONTRIBUTOR", False), ("FIRST_TIME_CONTRIBUTOR", False), ("NONE", False)])
def test_by_default_only_the_repositorys_people_run_a_pipeline_with_a_pull_request(author, runs):
    """Issue 23 item 6: a pull request's code runs with the pipeline's identity, and anyone can open one from a
    fork; by default only authors GitHub calls owners, members or collaborators start a run."""
    assert (_deliver("pull_request-opened.json", "pull_request", author=author) is not None) is runs


def test_a_pipeline_may_take_every_pull_request_or_none():
    assert _deliver("pull_request-opened.json", "pull_request", author="NONE", pull_requests="all") is not None
    assert _deliver("pull_request-opened.json", "pull_request", author="OWNER", pull_requests="none") is None
    assert _deliver("push.json", "push", pull_requests="none") is not None  # pushes always run
    assert _deliver("pull_request-closed.json", "pull_request", pull_requests="all") is None


def test_organization_admins_are_bound_by_the_name_the_kube_apiserver_gives_them_after_sso():
    """Issue 24 item 4: the RoleBindings named the bare email, which no signed-in person is (the kube-apiserver
    names them oidc:<email>, module_utils/platform/kube_sso.py): they granted nothing."""
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["a@acme.io", "b@acme.io"]}
    objects = _by_kind(render_organization(org, [], "", TenancySettings()))
    binding = objects[("RoleBinding", "organization-admin-a@acme.io")]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "oidc:a@acme.io"}]
    assert binding["roleRef"]["name"] == "organization-admin"
    assert objects[("Organization", "acme")]["spec"]["adminUsers"] == ["a@acme.io", "b@acme.io"]


def test_the_organizations_admins_see_and_sync_the_pipelines_applications_in_argocd_and_nothing_more():
    """Issue 24 item 3: every signed-in user saw every tenant's Applications in ArgoCD. Each pipeline's AppProject
    gives its organization's admins (by email: argocd-rbac-cm's scopes include email) get and sync on the project's
    Applications; whether ArgoCD applies it so is tests/integration/test_platform_sso.py's part."""
    objects = _by_kind(render_pipeline(PIPELINE, DOCUMENT, "", TenancySettings(), ["b@acme.io", "a@acme.io"]))
    [role] = objects[("AppProject", "web")]["spec"]["roles"]
    assert role["name"] == "organization-admin" and role["groups"] == ["a@acme.io", "b@acme.io"]
    assert role["policies"] == ["p, proj:web:organization-admin, applications, get, web/*, allow",
                                "p, proj:web:organization-admin, applications, sync, web/*, allow"]
