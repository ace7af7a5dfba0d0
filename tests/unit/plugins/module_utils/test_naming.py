"""Names, labels and addresses derived from a tenant's name, in their one home."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    API_PROVIDERS, DNS_LABEL, LABEL_VALUE, eventlistener_url, org_namespace, repo_label_value, reserved_conflict,
    tenant_labels)


@pytest.mark.parametrize("repo, value", [
    ("acme/web", "acme-web"),
    ("acme/web.service_", "acme-web.service"),
    ("a" * 39 + "/" + "b" * 60, "a" * 39 + "-" + "b" * 23),
    ("acme/_", "acme"),
])
def test_repo_label_value_is_a_valid_label_value(repo, value):
    assert repo_label_value(repo) == value and LABEL_VALUE.match(value)


def test_reserved_names_match_exactly_or_as_prefix_only():
    assert reserved_conflict("argocd") == "argocd"
    assert reserved_conflict("argocd-apps") == "argocd"
    assert reserved_conflict("argocdx") is None
    assert reserved_conflict("acme") is None


def test_an_organizations_listener_is_its_tekton_service_in_its_namespace():
    assert org_namespace("acme") == "org-acme" and DNS_LABEL.match(org_namespace("acme"))
    assert eventlistener_url("acme") == "http://el-github-listener.org-acme.svc.cluster.local:8080"


def test_tenant_labels_say_who_owns_the_object():
    assert tenant_labels("acme") == {"platform.aphex/managed-by": "aphex-platform", "platform.aphex/organization": "acme",
                                     "platform.aphex/owner-kind": "Organization", "platform.aphex/owner-name": "acme"}
    assert tenant_labels("acme", "acme-web")["platform.aphex/owner-kind"] == "Pipeline"


def test_every_api_group_the_tenants_write_names_the_app_that_serves_it():
    assert API_PROVIDERS == {"aphex.io": "platform-crds", "tekton.dev": "tekton-pipelines",
                             "triggers.tekton.dev": "tekton-triggers", "external-secrets.io": "external-secrets",
                             "argoproj.io": "argocd"}
