"""Preparing a manifest set (Lists unfolded, objects placed in the namespace when their kind is namespaced, the
component labels added), overlays, and what the waits report. The writes against the real API server are
tests/integration/test_bootstrap.py (ArgoCD's install manifest) and the platform tests."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.kube.manifests import (
    ManifestError, prepare, remove, wait_available, with_overlays)

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "CustomResourceDefinition"}


class Discovery:
    """What prepare() asks the cluster: whether a kind is namespaced."""

    @staticmethod
    def resource(_api_version, kind):
        return SimpleNamespace(namespaced=kind not in CLUSTER_SCOPED)


def config_map(name, **extra):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **extra}}


def test_objects_are_unfolded_placed_and_labelled_with_their_component():
    documents = [None, {"apiVersion": "v1", "kind": "List", "items": [config_map("a"), config_map("b", namespace="x")]},
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                  "metadata": {"name": "r", "namespace": "ignored", "labels": {"keep": "me"}}}]
    objects = prepare(Discovery(), documents, "argocd", "argocd")
    assert [(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in objects] == [
        ("ConfigMap", "a", "argocd"), ("ConfigMap", "b", "x"), ("ClusterRole", "r", None)]
    assert objects[2]["metadata"]["labels"] == {"keep": "me", "platform.aphex/managed-by": "aphex-platform",
                                                "aphex.io/component": "argocd"}
    assert "labels" not in documents[1]["items"][0]["metadata"]  # the caller's documents are left as they were


@pytest.mark.parametrize("document, message", [
    ({"kind": "ConfigMap", "metadata": {"name": "a"}}, "document 1 is not a Kubernetes object"),
    (config_map(""), "document 1 is not a Kubernetes object"),
    (config_map("a"), "ConfigMap a needs a namespace (set namespace)"),
])
def test_what_cannot_be_applied_is_named_before_anything_is_sent(document, message):
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare(Discovery(), [document], "set", None)


def test_an_overlay_merges_into_its_document_or_is_added():
    documents = [config_map("argocd-cm", namespace="argocd") | {"data": {"url": "x", "kept": "1"}}]
    merged = with_overlays(documents, [{"kind": "ConfigMap", "metadata": {"name": "argocd-cm"}, "data": {"url": "y"}},
                                       config_map("extra")])
    assert merged[0]["data"] == {"url": "y", "kept": "1"} and merged[0]["metadata"]["namespace"] == "argocd"
    assert merged[1] == config_map("extra")
    assert documents[0]["data"]["url"] == "x"
    with pytest.raises(ManifestError, match="every overlay needs kind and metadata.name"):
        with_overlays(documents, [{"data": {}}])


def test_a_deployment_that_is_not_available_is_named_with_its_conditions():
    states = {"server": {"status": {"conditions": [{"type": "Available", "status": "False",
                                                    "message": "0 of 1 ready"}]}},
              "repo": {"status": {"conditions": [{"type": "Available", "status": "True"}]}}}

    class Deployments:
        @staticmethod
        def get(_api_version, _kind, name, _namespace):
            return states.get(name)

    with pytest.raises(ManifestError) as failed:
        wait_available(Deployments(), ["server", "repo", "gone"], "argocd", timeout=-1)
    assert str(failed.value) == ("Deployments in argocd not Available after -1 s - "
                                 "server: Available=False (0 of 1 ready); gone: missing")
    wait_available(Deployments(), ["repo"], "argocd", timeout=0)  # available: returns at once


class Component:
    """Live objects by (apiVersion, kind); a kind listed in `gone` is no longer served. Records the deletions."""

    def __init__(self, live, gone=()):
        self.live, self.gone, self.deleted = live, set(gone), []

    def list(self, api_version, kind, label_selector=None, **_ignored):
        from ansible_collections.aphex.platform.plugins.module_utils.kube.client import MissingApiError

        if kind in self.gone:
            raise MissingApiError(f"{kind} is not served")
        assert label_selector == "aphex.io/component=argocd"
        return [dict(item, apiVersion=api_version, kind=kind) for item in self.live.get(kind, [])]

    def delete(self, _api_version, kind, name, namespace):
        self.deleted.append((kind, namespace, name))

    @staticmethod
    def concurrently(calls):
        return [call() for call in calls]


def test_removing_a_component_deletes_its_live_objects_of_the_sets_kinds_crds_last():
    documents = [{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                  "metadata": {"name": "applications.argoproj.io"}},
                 config_map("argocd-cm"), {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
                                           "metadata": {"name": "platform"}}]
    api = Component({"CustomResourceDefinition": [{"metadata": {"name": "applications.argoproj.io"}}],
                     "ConfigMap": [{"metadata": {"name": "argocd-cm", "namespace": "argocd"}}]},
                    gone={"AppProject"})
    removed = remove(api, documents, "argocd", check_mode=False)
    assert removed.changed
    assert api.deleted == [("ConfigMap", "argocd", "argocd-cm"),
                           ("CustomResourceDefinition", None, "applications.argoproj.io")]
    preview = Component(api.live)
    assert remove(preview, documents, "argocd", check_mode=True).changed and preview.deleted == []
    assert not remove(Component({}, gone={"AppProject"}), documents, "argocd", check_mode=False).changed
