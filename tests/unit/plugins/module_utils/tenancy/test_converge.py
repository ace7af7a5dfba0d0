"""The converge's decisions on a given cluster state - which tenants are live, whether a prune is a decision or a
lost inventory, where a webhook secret comes from - and that nothing connects before the inventory is valid. The
writes against the real API server are tests/integration/test_tenancy*.py."""
from __future__ import annotations

import base64

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.naming import DRIVER_CONTROLLER, LABEL_DRIVER, tenant_labels
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.converge import (
    Tenancy, TenancyError, new_webhook_secret, run)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TenancySettings
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError

SECRET = "github-webhook-secret"


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def namespace(name, org, pipeline=None, terminating=False):
    metadata = {"name": name, "labels": tenant_labels(org, pipeline)}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-06T00:00:00Z"
    return ("v1", "Namespace", "", name), {"metadata": metadata}


def webhook_copy(org, pipeline, value):
    return ("v1", "Secret", pipeline, SECRET), {"metadata": {"name": SECRET, "namespace": pipeline,
                                                             "labels": tenant_labels(org, pipeline)},
                                                "data": {"secret": value}}


def tenancy(live=(), organizations=(), pipelines=(), **options):
    state = Tenancy(None, [{"name": o} if isinstance(o, str) else o for o in organizations],
                    [{"name": p, "organization": org} for p, org in pipelines], TenancySettings(), **options)
    state.live = dict(live)
    return state


def test_nothing_connects_before_the_inventory_is_valid():
    connected = []
    with pytest.raises(TenantValidationError):
        run(lambda: connected.append(True), [{"name": "Not A Label"}], [], TenancySettings(), False, False,
            "organizations")
    assert connected == []


def test_new_webhook_secrets_are_64_hex_characters_and_never_repeat():
    first, second = (base64.b64decode(new_webhook_secret()).decode() for _attempt in range(2))
    assert len(first) == 64 and int(first, 16) >= 0 and first != second


def test_live_tenants_leave_out_those_being_deleted():
    state = tenancy([namespace("org-acme", "acme"), namespace("org-gone", "gone", terminating=True),
                     namespace("acme-web", "acme", "acme-web"),
                     namespace("acme-old", "acme", "acme-old", terminating=True)])
    assert state._live_tenants("Organization") == {"acme": "acme"}
    assert state._live_tenants("Pipeline") == {"acme-web": "acme"}


@pytest.mark.parametrize("listed, removed, confirm, refused", [
    (["o1", "o2", "o3"], ["o4"], 0, None),                              # one tenant may always go
    (["o1"], ["o2", "o3", "o4"], 0, "more than 10% of the 4 managed tenants"),
    (["o1"], ["o2", "o3", "o4"], 3, None),                              # confirmed with the count
    ([], ["o1"], 0, "the inventory lists no tenants at all"),            # an empty inventory is never taken as meant
])
def test_a_prune_that_looks_like_a_lost_inventory_is_refused_naming_what_would_go(listed, removed, confirm, refused):
    state = tenancy([namespace(f"org-{o}", o) for o in listed + removed], listed, prune=True, prune_confirm=confirm)
    if refused is None:
        state._check_prune(removed, [])
        return
    with pytest.raises(TenancyError) as failed:
        state._check_prune(removed, [])
    assert refused in str(failed.value)
    assert f"organizations: {', '.join(sorted(removed))}; pipelines: none" in str(failed.value)
    assert str(failed.value).endswith(f"-e aphex_prune_confirm={len(removed)}")


def test_a_stored_webhook_secret_is_kept_and_an_unlabelled_one_adopted_with_a_warning():
    state = tenancy(organizations=["acme", "bolt"])
    state.webhook_secrets = {"org-acme": {"metadata": {"labels": tenant_labels("acme")}, "data": {"secret": "a"}},
                             "org-bolt": {"metadata": {}, "data": {"secret": "b"}}}
    assert state._webhook_secret("acme", {}) == "a"
    assert state._webhook_secret("bolt", {}) == "b"
    assert state.warnings == ["organization 'bolt': adopted the existing webhook Secret org-bolt/github-webhook-secret, "
                              "which was not labelled as managed by the platform; its value is kept"]
    assert state._webhook_secret("acme", {"rotate_webhook_secret": True}) not in ("a", "b")


def test_a_lost_webhook_secret_is_restored_from_its_pipelines_copies_when_they_agree():
    state = tenancy([webhook_copy("acme", "acme-web", "v"), webhook_copy("acme", "acme-api", "v"),
                     webhook_copy("bolt", "bolt-web", "other")], ["acme"])
    assert state._webhook_secret("acme", {}) == "v"
    assert "restored from its pipelines' copies (acme-api, acme-web)" in state.warnings[0]
    disagreeing = tenancy([webhook_copy("acme", "acme-web", "v"), webhook_copy("acme", "acme-api", "w")], ["acme"])
    with pytest.raises(TenancyError, match="copies disagree \\(acme-api, acme-web\\); set rotate_webhook_secret"):
        disagreeing._webhook_secret("acme", {})


def test_the_listener_serves_listed_pipelines_and_without_prune_the_unlisted_ones():
    state = tenancy(organizations=["acme"], pipelines=[("acme-web", "acme")])
    assert state._hooked_pipelines("acme", {"acme-web": "acme", "acme-old": "acme", "bolt-x": "bolt"}) == [
        "acme-old", "acme-web"]
    pruning = tenancy(organizations=["acme"], pipelines=[("acme-web", "acme")], prune=True)
    assert pruning._hooked_pipelines("acme", {"acme-old": "acme"}) == ["acme-web"]


def test_an_object_another_controller_made_from_a_tenant_object_is_never_stale():
    """Tekton Triggers runs each EventListener as a Deployment and a Service carrying the EventListener's labels,
    ours included, and its own controller reference: they are the Triggers controller's, not the organization's."""
    labels = {**tenant_labels("acme"), "platform.aphex/owner-kind": "Organization", "platform.aphex/owner-name": "acme"}
    made = {"metadata": {"name": "el-github-listener", "namespace": "org-acme", "labels": labels, "ownerReferences": [
        {"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "EventListener", "name": "github-listener",
         "uid": "u-1", "controller": True}]}}
    ours = {"metadata": {"name": "old-admin", "namespace": "org-acme", "labels": labels}}
    state = tenancy([(("apps/v1", "Deployment", "org-acme", "el-github-listener"), made),
                     (("rbac.authorization.k8s.io/v1", "RoleBinding", "org-acme", "old-admin"), ours)], ["acme"])
    assert state._stale("Organization", {"acme"}, []) == [
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "org-acme", "old-admin")]


# ------------------------------------------------------------------ drivers
def controller_labelled(key_obj):
    key, obj = key_obj
    obj["metadata"]["labels"][LABEL_DRIVER] = DRIVER_CONTROLLER
    return key, obj


class ListingApi:
    """Answers each LIST with the objects of that kind, whatever the driver: the converge sorts them."""

    def __init__(self, objects):
        self.objects = objects

    def require(self, _kinds):
        pass

    def list(self, api_version, kind, _selector=None, **_):
        return [{**obj, "apiVersion": api_version, "kind": kind} for (v, k, _ns, _n), obj in self.objects
                if (v, k) == (api_version, kind)]

    @staticmethod
    def concurrently(calls):
        return [call() for call in calls]


def test_each_driver_reads_the_others_tenants_as_foreign_and_never_as_its_own():
    objects = [namespace("org-acme", "acme"), controller_labelled(namespace("org-self", "self"))]
    inventory = Tenancy(ListingApi(objects), [], [], TenancySettings())
    inventory._read([("v1", "Namespace")])
    assert inventory._live_tenants("Organization") == {"acme": "acme"}
    assert list(inventory.foreign) == [("v1", "Namespace", "", "org-self")]
    controller = Tenancy(ListingApi(objects), [], [], TenancySettings(), driver=DRIVER_CONTROLLER)
    controller._read([("v1", "Namespace")])
    assert controller._live_tenants("Organization") == {"self": "self"}
    assert list(controller.foreign) == [("v1", "Namespace", "", "org-acme")]


def test_a_tenant_of_the_other_driver_is_refused_naming_it_before_anything_is_written():
    inventory = tenancy()
    inventory.foreign = dict([controller_labelled(namespace("org-self", "self"))])
    desired = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "org-self", "labels": {}}}]
    with pytest.raises(TenancyError, match="Namespace org-self already belong to a tenant managed by the tenant "
                                           "controller"):
        inventory._as_driver(desired)
    controller = tenancy(driver=DRIVER_CONTROLLER)
    controller.foreign = dict([namespace("org-acme", "acme")])
    desired[0]["metadata"]["name"] = "org-acme"
    with pytest.raises(TenancyError, match=r"managed by onboard.yml \(the inventory\)"):
        controller._as_driver(desired)


def test_the_controller_marks_what_it_writes_and_leaves_the_records_to_their_owner():
    controller = tenancy(driver=DRIVER_CONTROLLER)
    controller.api = type("Api", (), {"get": staticmethod(lambda *_args: None)})()
    desired = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "org-self", "labels": {"a": "b"}}},
               {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "self"}}]
    assert controller._as_driver(desired) == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "org-self", "labels": {"a": "b", LABEL_DRIVER: DRIVER_CONTROLLER}}}]
    assert tenancy()._as_driver(desired) == desired  # the inventory's as rendered


def test_the_controller_never_adopts_a_namespace_it_does_not_manage():
    controller = tenancy(driver=DRIVER_CONTROLLER)
    controller.api = type("Api", (), {"get": staticmethod(lambda *_args: {"metadata": {"name": "monitoring"}})})()
    with pytest.raises(TenancyError, match="namespace 'monitoring' already exists and is not managed"):
        controller._as_driver([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}])
