"""A kubectl tenant read as an inventory entry, its spec's problems named by its own fields, and the status the
controller writes. The controller against the real API server is tests/integration/test_tenant_controller.py."""
from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    DRIVER_CONTROLLER, LABEL_DRIVER, LABEL_MANAGED_BY, MANAGED_BY)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import DEFAULT_QUOTA
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.self_service import (
    Reconciler, SelfServiceError, invalid_spec, organization_entry, pipeline_entry, quota_ceiling_problems,
    self_service, status, status_changed)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TenancySettings
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError

DEFAULT_PIPELINE = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "spec": {"tasks": [{"name": "default"}]}}


def binding(name="web", org="acme", namespace=None, **spec):
    return {"metadata": {"name": name, "namespace": namespace or f"org-{org}", "generation": 3},
            "spec": {"aphexOrg": org, "repoOrg": "acme-corp", "repoName": "web", "pipelineName": name,
                     "templateRef": "run-pipeline-v1", **spec}}


@pytest.mark.parametrize("labels, owned", [
    ({}, True),                                                              # created with kubectl
    ({LABEL_MANAGED_BY: MANAGED_BY, LABEL_DRIVER: DRIVER_CONTROLLER}, True),  # marked by the controller
    ({LABEL_MANAGED_BY: MANAGED_BY}, False),                                 # onboard.yml's record
])
def test_the_controller_owns_what_was_created_with_kubectl_and_never_the_inventorys_records(labels, owned):
    assert self_service({"metadata": {"labels": labels}}) is owned


def test_an_organization_reads_as_an_inventory_entry():
    body = {"metadata": {"name": "acme"}, "spec": {"displayName": "Acme", "adminUsers": ["a@acme.io"]}}
    assert organization_entry(body) == {"name": "acme", "display_name": "Acme", "admin_users": ["a@acme.io"]}


def test_a_repobinding_without_a_pipeline_runs_the_platforms_default():
    entry = pipeline_entry(binding(), DEFAULT_PIPELINE, DEFAULT_QUOTA)
    assert entry == {"name": "web", "organization": "acme", "repo": "acme-corp/web", "pipeline": DEFAULT_PIPELINE,
                     "pull_requests": "trusted"}


def test_a_repobinding_brings_its_own_pipeline_pull_request_rule_and_a_lower_quota():
    entry = pipeline_entry(binding(pipelineSpec={"tasks": []}, pullRequests="none", quota={"limits.cpu": "2"}),
                           DEFAULT_PIPELINE, DEFAULT_QUOTA)
    assert entry["pipeline"] == {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "spec": {"tasks": []}}
    assert (entry["pull_requests"], entry["quota"]) == ("none", {"limits.cpu": "2"})


@pytest.mark.parametrize("body, field", [
    (binding(pipelineName="other"), "spec.pipelineName"),
    (binding(namespace="org-elsewhere"), "metadata.namespace"),
    (binding(quota={"limits.cpu": "9"}), "spec.quota.limits.cpu"),
    (binding(quota={"services": "1"}), "spec.quota.services"),
])
def test_what_only_a_repobinding_can_get_wrong_is_refused_for_good_naming_the_field(body, field):
    with pytest.raises(SelfServiceError) as refused:
        pipeline_entry(body, DEFAULT_PIPELINE, DEFAULT_QUOTA)
    assert refused.value.reason == "InvalidSpec" and refused.value.retry is None
    assert str(refused.value).startswith(field)


def test_the_quota_ceiling_compares_quantities_not_text():
    assert quota_ceiling_problems({"limits.memory": "16384Mi", "requests.cpu": "4000m"}, DEFAULT_QUOTA) == []
    assert quota_ceiling_problems({"limits.memory": "17Gi"}, DEFAULT_QUOTA)


def test_the_inventorys_problems_are_named_by_the_custom_resources_fields():
    error = TenantValidationError(["aphex_pipelines[web].repo: 'x' must be a GitHub repository as owner/name",
                                   "aphex_pipelines[web].pipeline: kind is 'Task', expected 'Pipeline'"])
    message = str(invalid_spec(error, "RepoBinding"))
    assert message.startswith("spec.repoOrg/repoName: 'x' must be")
    assert "; spec.pipelineSpec: kind is 'Task'" in message
    error = TenantValidationError(["aphex_organizations[acme].admin_users[0]: 'x' is not a valid email address"])
    assert str(invalid_spec(error, "Organization")).startswith("spec.adminUsers[0]: 'x'")


def test_the_status_says_ready_or_why_not_with_the_generation_it_saw():
    ready = status(binding(), True, "Converged", "Pipeline onboarded", namespace="web")
    assert (ready["phase"], ready["observedGeneration"], ready["namespace"]) == ("Ready", 3, "web")
    assert [(c["type"], c["status"], c["reason"]) for c in ready["conditions"]] == [
        ("Ready", "True", "Converged"), ("Degraded", "False", "Converged")]
    failed = status(binding(), False, "RepositoryAlreadyBound", "bound elsewhere")
    assert failed["phase"] == "Failed" and failed["conditions"][1]["message"] == "bound elsewhere"
    assert status(binding(), False, "WaitingForRunLock", "held", waiting=True)["phase"] == "Pending"


def test_a_condition_keeps_its_transition_time_while_it_holds_and_an_unchanged_status_is_not_rewritten():
    body = binding()
    body["status"] = status(body, True, "Converged", "ok")
    for condition in body["status"]["conditions"]:
        condition["lastTransitionTime"] = "2026-01-01T00:00:00Z"
    again = status(body, True, "Converged", "ok")
    assert {c["lastTransitionTime"] for c in again["conditions"]} == {"2026-01-01T00:00:00Z"}
    assert not status_changed(body, again)
    failed = status(body, False, "ConvergeFailed", "no")
    assert status_changed(body, failed)
    assert all(c["lastTransitionTime"] != "2026-01-01T00:00:00Z" for c in failed["conditions"])


class FakeApi:
    def __init__(self, objects=(), namespaces=()):
        self.objects = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        self.namespaces = list(namespaces)

    def get(self, _api_version, kind, name, _namespace=None):
        return self.objects.get((kind, name))

    def list(self, _api_version, kind, label_selector=None, namespace=None):
        assert kind == "Namespace"
        key, value = label_selector.split("=")
        return [ns for ns in self.namespaces if ns["metadata"]["labels"].get(key) == value]


def organization(name="acme", labels=None, phase="Ready"):
    return {"kind": "Organization", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"displayName": name, "adminUsers": [f"a@{name}.io"]}, "status": {"phase": phase}}


@pytest.mark.parametrize("found, reason, retry", [
    (None, "OrganizationNotFound", True),
    (organization(labels={LABEL_MANAGED_BY: MANAGED_BY}), "OrganizationManagedByInventory", False),
    (organization(phase="Failed"), "OrganizationNotReady", True),
])
def test_a_repobinding_needs_a_ready_organization_of_its_own_driver(found, reason, retry):
    reconciler = Reconciler(FakeApi([found] if found else []), TenancySettings(), DEFAULT_PIPELINE, holder="test")
    with pytest.raises(SelfServiceError) as refused:
        reconciler.repo_binding(binding())
    assert refused.value.reason == reason and (refused.value.retry is not None) is retry


def test_a_repository_bound_to_another_pipeline_is_refused_for_good():
    bound = {"metadata": {"name": "site", "labels": {"platform.aphex/repo": "acme-corp-web"}}}
    reconciler = Reconciler(FakeApi([organization()], [bound]), TenancySettings(), DEFAULT_PIPELINE, holder="test")
    with pytest.raises(SelfServiceError) as refused:
        reconciler.repo_binding(binding())
    assert refused.value.reason == "RepositoryAlreadyBound" and "site" in str(refused.value)
    assert refused.value.retry is None
