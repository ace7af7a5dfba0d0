# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform taken down in the reverse of the order bootstrap built it, through ArgoCD.

platform-root goes first and alone: its finalizer and automated sync are taken off, so that deleting it neither
cascades to every child at once nor lets it create them again. Then the children go wave by wave, the last wave
first; each keeps ArgoCD's resources finalizer, so ArgoCD deletes what it deployed (hooks included) before the
Application disappears, and the next wave starts only when the one before is gone; then the CRDs ArgoCD listed for
them (it never deletes a CRD itself). ArgoCD goes next (manifests, state absent), then the namespaces the platform
made (remove_namespaces). The tenants made with kubectl go before all of it (remove_kubectl_tenants)."""

from __future__ import annotations

import time

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import MissingApiError
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    APHEX_V1ALPHA1, ARGOCD_V1ALPHA1, DRIVER_CONTROLLER, LABEL_DRIVER, LABEL_MANAGED_BY, MANAGED_BY)
from ansible_collections.aphex.platform.plugins.module_utils.platform.argocd import explain, wave_of
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import PART_OF

ROOT = "platform-root"
CHILDREN = f"app.kubernetes.io/part-of={PART_OF}"
MANAGED = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
KUBECTL_TENANTS = f"{LABEL_DRIVER}={DRIVER_CONTROLLER}"
# Never removed, whatever an app deployed into them.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class TeardownError(AphexError):
    """The platform could not be taken down; the message names what is left and why."""


def plan(api, namespace: str) -> dict:
    """What would go, in order: platform-root, then the children's waves from the last; and the namespaces the
    platform made - the children's, ArgoCD's, those labelled as the collection's - for the last step, once the
    apps are gone (system namespaces never)."""
    try:
        root = api.get(ARGOCD_V1ALPHA1, "Application", ROOT, namespace)
        children = api.list(ARGOCD_V1ALPHA1, "Application", label_selector=CHILDREN, namespace=namespace)
    except MissingApiError:  # ArgoCD is gone already (a teardown run again): no app is left
        root, children = None, []
    waves = {}
    for app in children:
        waves.setdefault(wave_of(app), []).append(app["metadata"]["name"])
    # ArgoCD made the apps' namespaces (CreateNamespace) and never removes them; the collection labels its own
    made = {((app.get("spec") or {}).get("destination") or {}).get("namespace") for app in children}
    made |= {item["metadata"]["name"] for item in api.list("v1", "Namespace", label_selector=MANAGED)}
    # ArgoCD never deletes a CRD when its app goes (that would delete every object of the kind); the teardown does,
    # once the apps are gone: the CRDs ArgoCD lists among a child's resources.
    crds = sorted({resource["name"] for app in children for resource in (app.get("status") or {}).get("resources") or []
                   if (resource.get("group"), resource.get("kind")) == ("apiextensions.k8s.io", CRD[1])})
    ordered = sorted(waves.items(), reverse=True)
    return {"root": root is not None,
            "waves": [{"wave": wave, "applications": sorted(names)} for wave, names in ordered],
            "crds": crds,
            "namespaces": sorted((made | {namespace}) - SYSTEM_NAMESPACES - {None, ""})}


def _wait_gone(api, namespace: str, names: list, timeout: float, clock, sleep) -> None:
    deadline = clock() + timeout
    while True:
        left = {app["metadata"]["name"]: app for app in api.list(ARGOCD_V1ALPHA1, "Application", namespace=namespace)
                if app["metadata"]["name"] in names}
        if not left:
            return
        if clock() >= deadline:
            raise TeardownError(
                f"ArgoCD did not remove {', '.join(sorted(left))} within {int(timeout)} s: "
                + "; ".join(explain(app) for _name, app in sorted(left.items()))
                + " (is ArgoCD's application controller running? the Applications keep their finalizer until it has "
                  "deleted what they deployed)")
        sleep(2)


def _changes(planned: dict) -> bool:
    return bool(planned["root"] or planned["waves"] or planned["crds"])


def remove_apps(api, namespace: str, timeout: float, check_mode: bool, clock=time.monotonic,
                sleep=time.sleep) -> dict:
    """Take platform-root and its children down, wave by wave from the last, then the CRDs they deployed; return
    the plan (what went)."""
    planned = plan(api, namespace)
    if check_mode:
        return {**planned, "changed": _changes(planned)}
    if planned["root"]:
        api.merge_patch(ARGOCD_V1ALPHA1, "Application", ROOT, namespace,
                        {"metadata": {"finalizers": None}, "spec": {"syncPolicy": None}})
        api.delete(ARGOCD_V1ALPHA1, "Application", ROOT, namespace)
        _wait_gone(api, namespace, [ROOT], timeout, clock, sleep)
    for wave in planned["waves"]:
        for name in wave["applications"]:
            api.delete(ARGOCD_V1ALPHA1, "Application", name, namespace)
        _wait_gone(api, namespace, wave["applications"], timeout, clock, sleep)
    for name in planned["crds"]:
        api.delete(CRD[0], CRD[1], name, None)
    _wait_deleted(api, [(CRD[0], CRD[1], None, name) for name in planned["crds"]], timeout, clock, sleep,
                  "an object of its kind keeps a finalizer whose controller is gone?")
    return {**planned, "changed": _changes(planned)}


def _wait_deleted(api, objects: list, timeout: float, clock, sleep, what: str) -> None:
    """Wait until none of OBJECTS ((api_version, kind, namespace, name)) exists; fail naming those left."""
    deadline = clock() + timeout
    while True:
        left = [obj for obj in objects if api.get(obj[0], obj[1], obj[3], obj[2]) is not None]
        if not left:
            return
        if clock() >= deadline:
            names = ", ".join(f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
                              for _version, kind, namespace, name in left)
            raise TeardownError(f"{names} not gone within {int(timeout)} s ({what})")
        sleep(1)


def remove_kubectl_tenants(api, timeout: float, check_mode: bool, clock=time.monotonic, sleep=time.sleep) -> dict:
    """The RepoBindings, then the Organizations, the tenant controller marked as its own (kubectl tenants): deleted
    and waited for, while the controller - an app - still runs to take down what it made (its finalizer)."""
    removed = []
    for kind in ("RepoBinding", "Organization"):
        try:
            items = api.list(APHEX_V1ALPHA1, kind, label_selector=KUBECTL_TENANTS)
        except MissingApiError:  # the tenant kinds are gone (a teardown run again): no tenant is left
            return {"tenants": [], "changed": False}
        objects = [(APHEX_V1ALPHA1, kind, item["metadata"].get("namespace"), item["metadata"]["name"]) for item in items]
        removed += [f"{kind} {name}" for _version, kind, _namespace, name in objects]
        if check_mode or not objects:
            continue
        for obj in objects:
            api.delete(obj[0], obj[1], obj[3], obj[2])
        _wait_deleted(api, objects, timeout, clock, sleep,
                      "the tenant controller removes what they made first: is it running?")
    return {"tenants": removed, "changed": bool(removed)}


def remove_namespaces(api, names: list, timeout: float, check_mode: bool, clock=time.monotonic,
                      sleep=time.sleep) -> dict:
    """Delete the namespaces (never a system one) and wait until they are gone."""
    live = api.namespace_names()
    gone = [name for name in names if name in live and name not in SYSTEM_NAMESPACES]
    if not check_mode:
        for name in gone:
            api.delete("v1", "Namespace", name, None)
        _wait_deleted(api, [("v1", "Namespace", None, name) for name in gone], timeout, clock, sleep,
                      "an object in it keeps a finalizer")
    return {"namespaces": gone, "changed": bool(gone)}
