"""Comparing desired and live objects: what counts as a change, what a diff shows, how writes are sent."""

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.naming import ANNOTATION_APPLIED_HASH
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import (
    REDACTED, contains, execute, manifest_hash, plan, project, redact)


def configmap(data, **metadata):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "n", **metadata}, "data": data}


def test_contains_ignores_fields_the_server_adds_but_not_changed_values():
    live = {"metadata": {"name": "c", "uid": "1", "labels": {"a": "1", "extra": "x"}}, "data": {"k": "v"}}
    assert contains(live, {"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"k": "v"}})
    assert not contains(live, {"data": {"k": "other"}})
    assert not contains(live, {"data": {"missing": "v"}})
    assert not contains({"items": [1, 2, 3]}, {"items": [1, 2]})  # lists must match in length and order


def test_an_empty_list_or_map_is_satisfied_by_an_absent_field_and_only_by_that():
    """ArgoCD writes its Applications and AppProjects back from their Go types, which drop empty lists and maps; a
    desired `syncOptions: []` then read as a change on every run after (seen with tools/rerun_check.py)."""
    assert contains({"spec": {}}, {"spec": {"sourceRepos": [], "options": {}}})
    assert not contains({"spec": {"sourceRepos": ["*"]}}, {"spec": {"sourceRepos": []}})  # [] still clears a list
    assert not contains({"spec": {}}, {"spec": {"sourceRepos": [""]}})
    assert not contains({"spec": {}}, {"spec": {"count": 0}})  # zero values are not empty collections


def test_contains_compares_quantities_by_value():
    assert contains({"hard": {"cpu": "1", "memory": "1Gi"}}, {"hard": {"cpu": "1000m", "memory": "1024Mi"}})
    assert not contains({"hard": {"cpu": "2"}}, {"hard": {"cpu": "1000m"}})
    assert not contains({"name": "web"}, {"name": "api"})


def test_hash_ignores_status_and_its_own_annotation():
    plain = configmap({"k": "v"})
    with_extras = configmap({"k": "v"}, annotations={ANNOTATION_APPLIED_HASH: "old"})
    with_extras["status"] = {"phase": "Ready"}
    assert manifest_hash(plain) == manifest_hash(with_extras)
    assert manifest_hash(plain) != manifest_hash(configmap({"k": "w"}))


def _live(manifest):
    applied = plan([manifest], {}, []).changes[0].desired
    return {**applied, "metadata": {**applied["metadata"], "uid": "u", "resourceVersion": "7"}}


def test_plan_creates_missing_keeps_equal_and_updates_drifted_objects():
    desired = configmap({"k": "v"})
    key = ("v1", "ConfigMap", "n", "c")
    assert [c.action for c in plan([desired], {}, []).changes] == ["created"]
    assert [c.action for c in plan([desired], {key: _live(desired)}, []).changes] == ["unchanged"]
    drifted = _live(desired)
    drifted["data"] = {"k": "edited by hand"}
    assert [c.action for c in plan([desired], {key: drifted}, []).changes] == ["updated"]


def test_plan_updates_when_a_desired_field_was_removed():
    """Dropping a key leaves live a superset; only the hash notices, and apply then removes the key."""
    before = configmap({"k": "v", "gone": "x"})
    key = ("v1", "ConfigMap", "n", "c")
    assert [c.action for c in plan([configmap({"k": "v"})], {key: _live(before)}, []).changes] == ["updated"]


def test_plan_orders_namespaces_first_and_deletions_last_in_reverse():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "n"}}
    live = {("v1", "Secret", "n", "s"): {"kind": "Secret"}, ("v1", "Namespace", "", "old"): {"kind": "Namespace"}}
    result = plan([binding, namespace], live, list(live))
    assert [(c.action, c.key[1]) for c in result.changes] == [
        ("created", "Namespace"), ("created", "RoleBinding"), ("deleted", "Secret"), ("deleted", "Namespace")]


def test_status_differences_are_changes_of_their_own():
    record = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "o", "namespace": "p"},
              "spec": {"displayName": "O"}, "status": {"phase": "Ready"}}
    live = _live(record)
    live["status"] = {"phase": "Pending"}
    [change] = plan([record], {("aphex.io/v1alpha1", "Organization", "p", "o"): live}, []).changes
    assert change.action == "unchanged" and change.status_changed and change.report()["action"] == "updated"


def test_secrets_are_redacted_in_diffs():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
              "data": {"secret": "c2VjcmV0"}}
    assert redact(secret)["data"] == {"secret": REDACTED}
    assert secret["data"] == {"secret": "c2VjcmV0"}  # the original is untouched
    [diff] = plan([secret], {}, []).diffs()
    assert diff["after"]["data"] == {"secret": REDACTED} and diff["before"] == {}


def test_project_shows_only_what_the_desired_state_speaks_about():
    live = {"metadata": {"name": "c", "uid": "u", "managedFields": []}, "data": {"k": "old", "other": "x"}}
    assert project(live, {"metadata": {"name": "c"}, "data": {"k": "new"}}) == {"metadata": {"name": "c"},
                                                                                "data": {"k": "old"}}


class RecordingApi:
    def __init__(self):
        self.calls = []

    def apply(self, manifest, dry_run=False, subresource=None):
        self.calls.append(("apply", manifest["kind"], manifest["metadata"]["name"], dry_run, subresource))

    def delete(self, api_version, kind, name, namespace):
        self.calls.append(("delete", kind, name, namespace))

    def concurrently(self, calls):
        return [call() for call in calls]


def test_check_mode_dry_runs_and_skips_objects_in_namespaces_that_do_not_exist():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "new"}}
    inside = configmap({"k": "v"}, namespace="new")
    elsewhere = configmap({"k": "v"}, name="d", namespace="existing")
    live = {("v1", "Secret", "existing", "s"): {"kind": "Secret"}}
    api = RecordingApi()
    execute(api, plan([namespace, inside, elsewhere], live, list(live)), check_mode=True, missing_namespaces={"new"})
    assert api.calls == [("apply", "ConfigMap", "d", True, None)]


def test_execute_writes_changes_then_status_and_deletes():
    record = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "o", "namespace": "p"},
              "spec": {}, "status": {"phase": "Ready"}}
    live = {("v1", "Secret", "n", "s"): {"kind": "Secret"}}
    api = RecordingApi()
    execute(api, plan([record], live, list(live)), check_mode=False, missing_namespaces=set())
    assert api.calls == [("apply", "Organization", "o", False, None), ("apply", "Organization", "o", False, "status"),
                         ("delete", "Secret", "s", "n")]


@pytest.mark.parametrize("manifest, expected", [
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}},
     "1447d1f5ebb4f215"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n", "annotations": {"x": "y"}},
      "data": {"k": "v"}}, "905e0ebc4140d7a3"),
    ({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "a", "namespace": "n", "annotations": {ANNOTATION_APPLIED_HASH: "zz"}},
      "data": {"k": "v"}}, "1447d1f5ebb4f215"),
    ({"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "o", "annotations": {}},
      "spec": {"a": [1, {"b": 2}]}, "status": {"phase": "Ready"}}, "18f5202d6c02bb34"),
])
def test_the_manifest_hash_is_the_one_release_0_1_0_wrote(manifest, expected):
    """Every live object carries this hash: a different one for the same manifest would rewrite every object of
    every tenant on the first run after an upgrade. The values are 0.1.0's (computed with its reconcile.py); status
    and the hash annotation itself are left out, and an emptied annotations map counts as none."""
    assert manifest_hash(manifest) == expected


class BatchRecordingApi(RecordingApi):
    """Records which writes were handed over together, as one concurrent batch."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def concurrently(self, calls):
        before = len(self.calls)
        results = [call() for call in calls]
        self.batches.append(self.calls[before:])
        return results


def test_execute_batches_each_kind_in_plan_order_and_keeps_status_with_its_object():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    record = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "o", "namespace": "n"},
              "spec": {}, "status": {"phase": "Ready"}}
    live = {("v1", "Secret", "n", "s"): {"kind": "Secret"}, ("v1", "Secret", "n", "t"): {"kind": "Secret"}}
    api = BatchRecordingApi()
    execute(api, plan([record, configmap({"k": "v"}, name="b"), namespace, configmap({"k": "v"}, name="a")],
                      live, list(live), order=[("aphex.io/v1alpha1", "Organization")]),
            check_mode=False, missing_namespaces=set())
    assert api.batches == [
        [("apply", "Namespace", "n", False, None)],
        [("apply", "ConfigMap", "b", False, None), ("apply", "ConfigMap", "a", False, None)],
        [("apply", "Organization", "o", False, None), ("apply", "Organization", "o", False, "status")],
        [("delete", "Secret", "s", "n"), ("delete", "Secret", "t", "n")],
    ]
