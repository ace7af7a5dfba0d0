"""Rendering tenants: names, labels and the choices that integration tests do not cover."""
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import BUILTIN_KIND_ORDER, plan
from ansible_collections.aphex.platform.plugins.module_utils.naming import repo_label_value, reserved_conflict
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
    APPLY_ORDER, ORGANIZATION_KINDS, PIPELINE_KINDS, TenancySettings, render_organization, render_pipeline)

DOCUMENT = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "x"}, "spec": {"tasks": []}}
PIPELINE = {"name": "web", "organization": "acme", "repo": "acme/web"}


@pytest.mark.parametrize("repo, value", [
    ("acme/web", "acme-web"),
    ("acme/web.service_", "acme-web.service"),
    ("a" * 39 + "/" + "b" * 60, "a" * 39 + "-" + "b" * 23),
    ("acme/_", "acme"),
])
def test_repo_label_value_is_a_valid_label_value(repo, value):
    assert repo_label_value(repo) == value


def test_reserved_names_match_exactly_or_as_prefix_only():
    assert reserved_conflict("argocd") == "argocd"
    assert reserved_conflict("argocd-apps") == "argocd"
    assert reserved_conflict("argocdx") is None
    assert reserved_conflict("acme") is None


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
