# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a set of manifests (an upstream install manifest, the root Application) the way the tenancy modules
converge theirs: label every object with its component, read once per kind by that label, write only what
differs, wait for CRDs and Deployments when asked."""

from __future__ import annotations

import copy
import time

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.data import deep_merge
from ansible_collections.aphex.platform.plugins.module_utils.naming import LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import MissingApiError
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import execute, object_key, plan


class ManifestError(AphexError):
    """The manifests or the wait failed; the message names the object."""


def prepare(api, documents: list, component: str, namespace: str | None) -> list:
    """Drop empty documents, unfold Lists, place namespaced objects, add the component labels."""
    objects = []
    for index, document in enumerate(documents):
        if not document:
            continue
        items = document.get("items", []) if document.get("kind", "").endswith("List") else [document]
        for item in items:
            if not isinstance(item, dict) or not item.get("apiVersion") or not item.get("kind") or \
                    not item.get("metadata", {}).get("name"):
                raise ManifestError(f"document {index + 1} is not a Kubernetes object with apiVersion, kind and "
                                    f"metadata.name")
            obj = copy.deepcopy(item)
            metadata = obj["metadata"]
            if api.resource(obj["apiVersion"], obj["kind"]).namespaced:
                metadata.setdefault("namespace", namespace)
                if not metadata["namespace"]:
                    raise ManifestError(f"{obj['kind']} {metadata['name']} needs a namespace (set namespace)")
            else:
                metadata.pop("namespace", None)
            metadata["labels"] = {**(metadata.get("labels") or {}), LABEL_MANAGED_BY: MANAGED_BY,
                                  LABEL_COMPONENT: component}
            objects.append(obj)
    return objects


def with_overlays(documents: list, overlays: list) -> list:
    """Merge each overlay into the document of the same kind and name (platform settings in an upstream
    ConfigMap), or add it when the set has no such document."""
    documents = [copy.deepcopy(d) for d in documents if d]
    for overlay in overlays or []:
        name = (overlay.get("metadata") or {}).get("name")
        if not overlay.get("kind") or not name:
            raise ManifestError("every overlay needs kind and metadata.name")
        for index, document in enumerate(documents):
            if document.get("kind") == overlay["kind"] and document.get("metadata", {}).get("name") == name:
                documents[index] = deep_merge(document, overlay)
                break
        else:
            documents.append(copy.deepcopy(overlay))
    return documents


def read_live(api, objects: list, component: str) -> dict:
    live = {}
    for api_version, kind in sorted({(obj["apiVersion"], obj["kind"]) for obj in objects}):
        for item in api.list(api_version, kind, label_selector=f"{LABEL_COMPONENT}={component}"):
            live[object_key(item)] = item
    return live


def converge(api, documents: list, component: str, namespace: str | None, prune: bool, check_mode: bool):
    """Plan and send the writes; return the plan."""
    # Kinds defined by CRDs in the same set cannot be resolved before the CRDs exist.
    crds = [d for d in documents if d and d.get("kind") == "CustomResourceDefinition"]
    others = [d for d in documents if d and d.get("kind") != "CustomResourceDefinition"]
    objects = prepare(api, crds, component, namespace)
    if crds and not check_mode:
        crd_plan = plan(objects, read_live(api, objects, component), [])
        execute(api, crd_plan, check_mode, set())
        wait_established(api, [obj["metadata"]["name"] for obj in objects], 120)
        api.forget_discovery()
    objects += prepare(api, others, component, namespace)
    live = read_live(api, objects, component)
    wanted = {object_key(obj) for obj in objects}
    stale = [key for key in live if key not in wanted] if prune else []
    live_namespaces = api.namespace_names()
    missing = {obj["metadata"].get("namespace") for obj in objects} - live_namespaces - {None}
    result = plan(objects, live, stale)
    execute(api, result, check_mode, missing)
    return result


def remove(api, documents: list, component: str, check_mode: bool):
    """Delete every live object of the component, of the kinds the set holds - the set's CRDs last, after the
    objects of every other kind; a kind no longer served has nothing left to delete. Return the plan."""
    kinds = sorted({(d["apiVersion"], d["kind"]) for d in documents if d and d.get("apiVersion") and d.get("kind")})
    live = {}
    for api_version, kind in kinds:
        try:
            for item in api.list(api_version, kind, label_selector=f"{LABEL_COMPONENT}={component}"):
                live[object_key(item)] = item
        except MissingApiError:
            continue
    result = plan([], live, list(live))
    execute(api, result, check_mode, set())
    return result


def wait_established(api, names: list, timeout: int) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        pending = [name for name in pending if not _condition(
            api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name), "Established")]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise ManifestError(f"CustomResourceDefinitions not Established after {timeout} s: {', '.join(pending)}")
        time.sleep(1)


def wait_available(api, deployments: list, namespace: str, timeout: int) -> None:
    deadline = time.monotonic() + timeout
    pending = list(deployments)
    while True:
        states = {name: api.get("apps/v1", "Deployment", name, namespace) for name in pending}
        pending = [name for name, obj in states.items() if not _condition(obj, "Available")]
        if not pending:
            return
        if time.monotonic() > deadline:
            details = "; ".join(f"{name}: {_describe_conditions(states[name])}" for name in pending)
            raise ManifestError(f"Deployments in {namespace} not Available after {timeout} s - {details}")
        time.sleep(2)


def _condition(obj: dict | None, condition: str) -> bool:
    return any(c.get("type") == condition and c.get("status") == "True"
               for c in ((obj or {}).get("status") or {}).get("conditions") or [])


def _describe_conditions(obj: dict | None) -> str:
    if obj is None:
        return "missing"
    conditions = (obj.get("status") or {}).get("conditions") or []
    return ", ".join(f"{c.get('type')}={c.get('status')} ({c.get('message', '')})" for c in conditions) or "no status"
