"""What a cluster cannot regenerate, taken out and put back: the document's shape, every problem of a file named
without a value, and a restore that creates only what is missing and refuses - before its first write - a cluster
holding other values. Against the real API server, with bootstrap and onboard after the restore:
tests/integration/test_backup_restore.py."""
from __future__ import annotations

import base64
import copy

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.platform.backup import (
    FORMAT, SELECTOR, BackupError, contents, export, redacted, restore, secret_values, validate)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Cluster:
    """Namespaces and Secrets in memory, answering the calls backup.py makes, and recording its writes."""

    def __init__(self, namespaces=None, secrets=None):
        self.namespaces = dict(namespaces or {})
        self.secrets = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in secrets or []}
        self.writes = []

    def namespace_names(self):
        return set(self.namespaces)

    def list(self, api_version, kind, label_selector=None, namespace=None):
        if kind == "Namespace":
            return [{"metadata": {"name": name, "labels": labels}} for name, labels in self.namespaces.items()]
        key, _equals, value = (label_selector or "=").partition("=")
        return [copy.deepcopy(s) for (ns, _name), s in self.secrets.items() if namespace in (None, ns)
                and (not key or (s["metadata"].get("labels") or {}).get(key) == value)]

    def create(self, manifest, dry_run=False):
        self.writes.append(("create", manifest["kind"], manifest["metadata"]["name"], dry_run))
        if not dry_run:
            if manifest["kind"] == "Namespace":
                self.namespaces[manifest["metadata"]["name"]] = manifest["metadata"]["labels"]
            else:
                self.secrets[(manifest["metadata"]["namespace"], manifest["metadata"]["name"])] = manifest

    def merge_patch(self, api_version, kind, name, namespace, patch, dry_run=False):
        self.writes.append(("patch", kind, name, dry_run))
        if not dry_run:
            self.secrets[(namespace, name)]["data"].update(patch["data"])


MANAGED = {"platform.aphex/managed-by": "aphex-platform"}


def _secret(namespace, name, data, labels=None, kind="Opaque"):
    return {"metadata": {"namespace": namespace, "name": name, "labels": dict(MANAGED if labels is None else labels)},
            "type": kind,
            "data": {key: _b64(value) for key, value in data.items()}}


def _source():
    return Cluster(
        namespaces={"org-acme": {"kubernetes.io/metadata.name": "org-acme", **MANAGED,
                                 "platform.aphex/organization": "acme"},
                    "auth-system": {"kubernetes.io/metadata.name": "auth-system", **MANAGED},
                    "default": {"kubernetes.io/metadata.name": "default"}},
        secrets=[_secret("org-acme", "github-webhook-secret", {"secret": "hook-value-1"}),
                 _secret("auth-system", "dex-secrets", {"argocd-client-secret": "client-value-2", "b": "other-3"}),
                 _secret("default", "not-ours", {"token": "foreign-value-4"}, labels={})])


def test_the_export_holds_the_managed_secrets_and_their_namespaces_labels_in_a_stable_order():
    document = export(_source(), "prod")
    assert SELECTOR == "platform.aphex/managed-by=aphex-platform"
    assert document == {
        "format": FORMAT, "cluster": "prod",
        "namespaces": [{"name": "auth-system", "labels": MANAGED},
                       {"name": "org-acme", "labels": {**MANAGED, "platform.aphex/organization": "acme"}}],
        "secrets": [{"namespace": "auth-system", "name": "dex-secrets", "type": "Opaque", "labels": MANAGED,
                     "data": {"argocd-client-secret": _b64("client-value-2"), "b": _b64("other-3")}},
                    {"namespace": "org-acme", "name": "github-webhook-secret", "type": "Opaque", "labels": MANAGED,
                     "data": {"secret": _b64("hook-value-1")}}]}
    assert contents(document) == ["auth-system/dex-secrets: argocd-client-secret, b",
                                  "org-acme/github-webhook-secret: secret"]
    assert set(secret_values(document)) == {_b64("client-value-2"), _b64("other-3"), _b64("hook-value-1")}
    assert redacted(document)["secrets"][0]["data"] == {"argocd-client-secret": "<redacted>", "b": "<redacted>"}
    assert "value" not in str(redacted(document))


def test_a_restore_onto_an_empty_cluster_recreates_the_namespaces_and_secrets_byte_for_byte():
    document = export(_source(), "prod")
    target = Cluster(namespaces={"default": {}})
    result = restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=False)
    assert result["changed"] is True
    assert [(o["kind"], o.get("namespace"), o["name"], o["action"]) for o in result["objects"]] == [
        ("Namespace", None, "auth-system", "created"), ("Namespace", None, "org-acme", "created"),
        ("Secret", "auth-system", "dex-secrets", "created"), ("Secret", "org-acme", "github-webhook-secret", "created")]
    assert export(target, "prod") == document
    again = restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=False)
    assert again["changed"] is False and len(target.writes) == 4


def test_a_missing_key_is_added_and_the_keys_the_cluster_holds_are_kept():
    document = export(_source(), "prod")
    target = Cluster(namespaces={"auth-system": {}, "org-acme": {}},
                     secrets=[_secret("auth-system", "dex-secrets", {"argocd-client-secret": "client-value-2"})])
    result = restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=False)
    dex = [o for o in result["objects"] if o["name"] == "dex-secrets"][0]
    assert dex["action"] == "updated" and dex["keys"] == {"argocd-client-secret": "kept", "b": "restored"}
    assert ("patch", "Secret", "dex-secrets", False) in target.writes
    assert target.secrets[("auth-system", "dex-secrets")]["data"]["b"] == _b64("other-3")


def test_check_mode_writes_nothing_and_the_diff_shows_key_names_only():
    document = export(_source(), "prod")
    target = Cluster(namespaces={"org-acme": {}})
    result = restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=True)
    assert result["changed"] is True and target.secrets == {} and set(target.namespaces) == {"org-acme"}
    # the existing namespace takes a server-side dry run; the missing one is only reported
    assert target.writes == [("create", "Secret", "github-webhook-secret", True)]
    assert "hook-value" not in str(result) and _b64("hook-value-1") not in str(result)
    assert result["diffs"][1]["after"] == {"secret": "<redacted>"}


def test_a_cluster_holding_other_values_is_refused_before_any_write_naming_each_key():
    document = export(_source(), "prod")
    target = Cluster(namespaces={"auth-system": {}, "org-acme": {}},
                     secrets=[_secret("auth-system", "dex-secrets", {"argocd-client-secret": "regenerated-5"})])
    with pytest.raises(BackupError) as refused:
        restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=False)
    assert refused.value.details["conflicts"] == [
        "Secret auth-system/dex-secrets key 'argocd-client-secret' holds another value"]
    assert "did bootstrap or onboard run before the restore?" in str(refused.value)
    assert str(refused.value).endswith("; nothing was restored")
    assert target.writes == [] and "regenerated-5" not in str(refused.value)


def test_another_clusters_backup_is_refused_unless_allowed_and_the_cluster_is_not_asked():
    document = export(_source(), "prod")

    def connect():
        raise AssertionError("connected")

    with pytest.raises(BackupError, match="^the backup was taken from cluster 'prod', not 'staging': .*"
                                          "aphex_restore_other_cluster: true.*; nothing was restored$"):
        restore(connect, document, "staging", allow_other_cluster=False, check_mode=False)
    target = Cluster()
    assert restore(lambda: target, document, "staging", allow_other_cluster=True, check_mode=False)["changed"]


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d.update(format="v0"), f"not an aphex.platform backup (its format must be {FORMAT})"),
    (lambda d: d.update(cluster=""), "cluster: the name of the cluster the backup was taken from is missing"),
    (lambda d: d["namespaces"][0].update(name="Bad"), "namespaces[0].name: 'Bad' is not a namespace name"),
    (lambda d: d["secrets"][1]["data"].update(secret="%%%"),
     "secrets[1] (org-acme/github-webhook-secret).data['secret']: not base64"),
    (lambda d: d["secrets"][0].update(namespace="elsewhere"),
     "secrets[0] (elsewhere/dex-secrets).namespace: not among the backup's namespaces"),
    (lambda d: d["secrets"].append(d["secrets"][0]), "secrets[2] (auth-system/dex-secrets): listed twice"),
    (lambda d: d["secrets"][0].update(data=None), "secrets[0] (auth-system/dex-secrets).data: must map keys to base64"),
])
def test_every_problem_of_a_file_is_named_and_nothing_is_asked_of_the_cluster(mutate, problem):
    document = export(_source(), "prod")
    mutate(document)
    assert problem in validate(document)[0]

    def connect():
        raise AssertionError("connected")

    with pytest.raises(BackupError, match="^the backup cannot be restored: .*; nothing was restored$"):
        restore(connect, document, "prod", allow_other_cluster=False, check_mode=False)


def test_an_empty_secret_is_restored_empty():
    """A store its tenant has not filled yet (org-secrets) is part of the backup as it is."""
    source = Cluster(namespaces={"org-acme": MANAGED}, secrets=[_secret("org-acme", "org-secrets", {})])
    document = export(source, "prod")
    assert validate(document) == []
    target = Cluster()
    restore(lambda: target, document, "prod", allow_other_cluster=False, check_mode=False)
    assert target.secrets[("org-acme", "org-secrets")]["data"] == {}
