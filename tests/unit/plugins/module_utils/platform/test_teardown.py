"""The platform taken down through ArgoCD: platform-root alone first (finalizer and automated sync off), then the
children wave by wave from the last, each wave gone before the next; a wave ArgoCD does not remove is named with its
state; check mode only reads; the namespaces to remove never include system ones. With the real ArgoCD:
tests/integration/test_platform_lifecycle.py."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import MissingApiError
from ansible_collections.aphex.platform.plugins.module_utils.platform.teardown import (
    TeardownError, plan, remove_apps, remove_kubectl_tenants, remove_namespaces)


def _app(name, wave, destination, *crds):
    return {"metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "aphex-platform"},
                         "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
            "spec": {"destination": {"namespace": destination}},
            "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}, "resources": [
                {"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition", "name": crd} for crd in crds]
                + [{"group": "", "kind": "ConfigMap", "namespace": destination, "name": "settings"}]}}


class ArgoCD:
    """Applications in memory; a deleted one disappears (as ArgoCD's finalizer ends) unless it is `stuck`."""

    def __init__(self, apps, stuck=(), served=True):
        self.apps = {app["metadata"]["name"]: app for app in apps}
        self.stuck, self.served, self.calls = set(stuck), served, []
        self.crds = {"organizations.aphex.io", "eventlisteners.triggers.tekton.dev", "applications.argoproj.io"}

    def get(self, _api_version, kind, name, _namespace=None):
        if kind == "CustomResourceDefinition":
            return {"metadata": {"name": name}} if name in self.crds else None
        if not self.served:
            raise MissingApiError("Application is not served")
        return self.apps.get(name)

    def list(self, api_version, kind, label_selector=None, namespace=None):
        if kind == "Namespace":
            return [{"metadata": {"name": name}} for name in ("auth-system", "kube-system")]
        if kind == "CustomResourceDefinition":
            raise AssertionError("the CRDs to remove are ArgoCD's record of each child's resources, not a listing")
        if not self.served:
            raise MissingApiError("Application is not served")
        return [app for name, app in self.apps.items()
                if label_selector is None or (name != "platform-root" and "part-of" in label_selector)]

    def merge_patch(self, _api_version, _kind, name, _namespace, patch):
        self.calls.append(("patch", name, patch))

    def delete(self, _api_version, kind, name, _namespace):
        self.calls.append(("delete", name))
        if kind == "CustomResourceDefinition":
            self.crds.discard(name)
        elif name not in self.stuck:
            del self.apps[name]


ROOT = {"metadata": {"name": "platform-root"}}
APPS = [ROOT, _app("tekton-pipelines", 1, "tekton-pipelines", "eventlisteners.triggers.tekton.dev"),
        _app("platform-crds", 5, "platform-system", "organizations.aphex.io"),
        _app("platform-rbac", 5, "kube-system"), _app("ingress-routes", 30, "argocd")]


def test_root_goes_alone_first_then_the_waves_from_the_last():
    api = ArgoCD(APPS)
    removed = remove_apps(api, "argocd", timeout=5, check_mode=False, sleep=lambda _s: None)
    assert api.calls == [
        ("patch", "platform-root", {"metadata": {"finalizers": None}, "spec": {"syncPolicy": None}}),
        ("delete", "platform-root"), ("delete", "ingress-routes"), ("delete", "platform-crds"),
        ("delete", "platform-rbac"), ("delete", "tekton-pipelines"),
        # then the CRDs ArgoCD tracked (it never deletes one itself); ArgoCD's own go with its manifest
        ("delete", "eventlisteners.triggers.tekton.dev"), ("delete", "organizations.aphex.io")]
    assert removed["changed"] and removed["root"]
    assert removed["crds"] == ["eventlisteners.triggers.tekton.dev", "organizations.aphex.io"]
    assert [w["wave"] for w in removed["waves"]] == [30, 5, 1]
    # the apps' namespaces and the collection's own, never a system one
    assert removed["namespaces"] == ["argocd", "auth-system", "platform-system", "tekton-pipelines"]


def test_check_mode_only_reads_and_says_what_would_go():
    api = ArgoCD(APPS)
    preview = remove_apps(api, "argocd", timeout=5, check_mode=True)
    assert api.calls == [] and preview["changed"]
    assert preview["waves"][0] == {"wave": 30, "applications": ["ingress-routes"]}


def test_a_wave_argocd_does_not_remove_is_named_and_the_next_one_is_not_started():
    api = ArgoCD(APPS, stuck={"platform-crds"})
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(TeardownError) as failed:
        remove_apps(api, "argocd", timeout=10, check_mode=False, clock=lambda: now[0], sleep=sleep)
    assert str(failed.value).startswith("ArgoCD did not remove platform-crds within 10 s: "
                                        "platform-crds (wave 5): sync Synced, health Healthy")
    assert "is ArgoCD's application controller running?" in str(failed.value)
    assert ("delete", "tekton-pipelines") not in api.calls


def test_without_argocd_nothing_is_left_to_take_down():
    gone = ArgoCD([], served=False)
    assert plan(gone, "argocd") == {"root": False, "waves": [], "crds": [], "namespaces": ["argocd", "auth-system"]}
    assert remove_apps(gone, "argocd", timeout=5, check_mode=False)["changed"] is False


class Tenants:
    """RepoBindings and Organizations that the tenant controller removes once deleted (their finalizer), unless
    it is not running; namespaces."""

    def __init__(self, controller_running=True, served=True):
        self.objects = {("RepoBinding", "org-cobalt", "cobalt-api"), ("Organization", "platform-system", "cobalt")}
        self.namespaces = {"argocd", "auth-system", "kube-system", "default"}
        self.running, self.served, self.deleted = controller_running, served, []

    def list(self, _api_version, kind, label_selector=None, **_ignored):
        if not self.served:
            raise MissingApiError(f"{kind} is not served")
        assert label_selector == "platform.aphex/driver=controller"
        return [{"metadata": {"name": name, "namespace": namespace}} for k, namespace, name in sorted(self.objects)
                if k == kind]

    def namespace_names(self):
        return set(self.namespaces)

    def delete(self, _api_version, kind, name, namespace):
        self.deleted.append((kind, name))
        if kind == "Namespace":
            self.namespaces.discard(name)
        elif self.running:
            self.objects.discard((kind, namespace, name))

    def get(self, _api_version, kind, name, namespace=None):
        if kind == "Namespace":
            return {} if name in self.namespaces else None
        return {} if (kind, namespace, name) in self.objects else None


def test_kubectl_tenants_go_repobindings_first_and_are_waited_for():
    api = Tenants()
    removed = remove_kubectl_tenants(api, timeout=5, check_mode=False, sleep=lambda _s: None)
    assert api.deleted == [("RepoBinding", "cobalt-api"), ("Organization", "cobalt")]
    assert removed == {"tenants": ["RepoBinding cobalt-api", "Organization cobalt"], "changed": True}
    preview = Tenants()
    assert remove_kubectl_tenants(preview, timeout=5, check_mode=True)["changed"] and preview.deleted == []
    assert remove_kubectl_tenants(Tenants(served=False), timeout=5, check_mode=False) == {"tenants": [],
                                                                                          "changed": False}


def test_a_kubectl_tenant_whose_controller_is_gone_is_named():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(TeardownError, match=r"^RepoBinding org-cobalt/cobalt-api not gone within 5 s \(the tenant "
                                            r"controller removes what they made first: is it running\?\)$"):
        remove_kubectl_tenants(Tenants(controller_running=False), timeout=5, check_mode=False,
                               clock=lambda: now[0], sleep=sleep)


def test_namespaces_go_except_system_ones_and_those_already_gone():
    api = Tenants()
    removed = remove_namespaces(api, ["argocd", "kube-system", "tekton-pipelines"], timeout=5, check_mode=False,
                                sleep=lambda _s: None)
    assert removed == {"namespaces": ["argocd"], "changed": True} and api.deleted == [("Namespace", "argocd")]
    assert remove_namespaces(api, ["argocd"], timeout=5, check_mode=False)["changed"] is False
