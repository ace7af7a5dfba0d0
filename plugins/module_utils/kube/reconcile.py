# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge many objects in one pass: read once per kind, compare the desired
fields, and write only what differs.

An object needs a write when it is missing, when the hash of its desired
manifest (kept in an annotation) changed - which also catches fields removed
from the desired state, since server-side apply then drops them - or when
someone changed a desired field in the cluster (drift). Check mode sends
server-side dry runs, except for objects whose namespace would only be
created by this run; those are reported from the desired state.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import partial

from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ConflictError
from ansible_collections.aphex.platform.plugins.module_utils.naming import ANNOTATION_APPLIED_HASH, RBAC_V1
from ansible_collections.aphex.platform.plugins.module_utils.quantity import quantity

REDACTED = "<redacted>"
# Built-in kinds in the order what an object refers to exists first (a namespace before what it holds, a role before
# its binding); the kinds of other APIs follow in the order the caller declares (`plan(order=...)`), then the rest.
BUILTIN_KIND_ORDER = (
    ("v1", "Namespace"), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), (RBAC_V1, "ClusterRole"),
    ("v1", "ServiceAccount"), (RBAC_V1, "Role"), ("v1", "Secret"), ("v1", "ConfigMap"), (RBAC_V1, "RoleBinding"),
    (RBAC_V1, "ClusterRoleBinding"),
    ("v1", "ResourceQuota"), ("v1", "LimitRange"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Service"), ("apps/v1", "Deployment"),
)


def object_key(obj: dict) -> tuple:
    metadata = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], metadata.get("namespace") or "", metadata["name"])


def describe(key: tuple) -> str:
    _api_version, kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def _ranking(order=()):
    """(apiVersion, kind) -> its place in the built-in order, then the caller's order, then last."""
    ranks = {}
    for rank, api_kind in enumerate(tuple(BUILTIN_KIND_ORDER) + tuple(order)):
        ranks.setdefault(api_kind, rank)
    return lambda api_version, kind: ranks.get((api_version, kind), len(ranks))


EMPTY = ([], {})


def contains(live, desired) -> bool:
    """True when every desired field has the same value in live (extra live fields are fine). An empty list or map
    is satisfied by an absent field: Kubernetes treats both alike, and a controller that writes an object back from
    its typed form drops the empty ones (ArgoCD does with its Applications and AppProjects), which would otherwise
    read as a change to undo on every run after it wrote."""
    if isinstance(desired, dict):
        # equal subtrees (most of them, on a re-run) are settled by one comparison in C, not a walk in Python
        return isinstance(live, dict) and all(
            (live[key] == value or contains(live[key], value)) if key in live else value in EMPTY
            for key, value in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(live) == len(desired) and all(
            contains(item, wanted) for item, wanted in zip(live, desired))
    if desired == live:
        return True
    # The API server canonicalises quantities ("1000m" is stored as "1").
    if isinstance(desired, str) and isinstance(live, str):
        wanted, actual = quantity(desired), quantity(live)
        return wanted is not None and wanted == actual
    return False


def project(live, desired):
    """The part of live that desired speaks about: what a diff should show."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return {key: project(live[key], value) for key, value in desired.items() if key in live}
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        return [project(item, wanted) for item, wanted in zip(live, desired)]
    return live


def manifest_hash(manifest: dict) -> str:
    """The desired manifest's hash, status and the hash annotation itself left out (copies of the two levels
    that change, not of the whole manifest: this runs for every desired object of every run)."""
    body = {key: value for key, value in manifest.items() if key != "status"}
    metadata = dict(body.get("metadata", {}))
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items()
                   if key != ANNOTATION_APPLIED_HASH}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    body["metadata"] = metadata
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def redact(obj):
    """Secret values never leave the module: replace each data value."""
    if not isinstance(obj, dict) or obj.get("kind") != "Secret":
        return obj
    clean = copy.deepcopy(obj)
    for section in ("data", "stringData"):
        if isinstance(clean.get(section), dict):
            clean[section] = {key: REDACTED for key in clean[section]}
    return clean


@dataclass
class Change:
    action: str          # created | updated | unchanged | deleted
    key: tuple
    desired: dict | None = None
    live: dict | None = None
    status_changed: bool = False
    create_only: bool = False  # created with POST: an object someone else created meanwhile is not overwritten

    @property
    def changed(self) -> bool:
        return self.action != "unchanged" or self.status_changed

    def report(self) -> dict:
        _api_version, kind, namespace, name = self.key
        action = "updated" if self.action == "unchanged" and self.status_changed else self.action
        entry = {"action": action, "kind": kind, "name": name}
        if namespace:
            entry["namespace"] = namespace
        return entry

    def diff(self) -> dict:
        before, after = {}, {}
        if self.action == "created":
            after = redact(without_status(self.desired))
        elif self.action == "deleted":
            before = redact(_trim(self.live))
        else:
            wanted = self.desired if self.status_changed else without_status(self.desired)
            before, after = redact(project(self.live, wanted)), redact(wanted)
        label = describe(self.key)
        return {"before_header": label, "after_header": label, "before": before, "after": after}


def without_status(manifest: dict) -> dict:
    return {key: value for key, value in manifest.items() if key != "status"}


def _trim(live: dict) -> dict:
    metadata = live.get("metadata", {})
    return {"apiVersion": live.get("apiVersion"), "kind": live.get("kind"),
            "metadata": {key: metadata[key] for key in ("name", "namespace", "labels") if key in metadata},
            **{key: value for key, value in live.items() if key in ("spec", "data", "rules", "subjects", "roleRef")}}


@dataclass
class Plan:
    changes: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(change.changed for change in self.changes)

    def reports(self) -> list:
        return [change.report() for change in self.changes]

    def diffs(self) -> list:
        return [change.diff() for change in self.changes if change.changed]


def plan(desired: list, live: dict, delete: list, create_only=frozenset(), order=()) -> Plan:
    """Compare desired manifests with live objects (keyed by object_key); `delete` lists live keys to remove;
    missing objects whose key is in `create_only` are created with POST rather than applied. Writes go in
    BUILTIN_KIND_ORDER then `order` ((apiVersion, kind) pairs), deletions in reverse."""
    rank = _ranking(order)
    changes = []
    for manifest in sorted(desired, key=lambda m: rank(m["apiVersion"], m["kind"])):
        # the caller's manifest stays as it was: only the metadata and its annotations are new
        metadata = dict(manifest["metadata"])
        metadata["annotations"] = {**(metadata.get("annotations") or {}),
                                   ANNOTATION_APPLIED_HASH: manifest_hash(manifest)}
        manifest = {**manifest, "metadata": metadata}
        key = object_key(manifest)
        current = live.get(key)
        status = manifest.get("status")
        if current is None:
            changes.append(Change("created", key, manifest, status_changed=status is not None,
                                  create_only=key in create_only))
            continue
        same = contains(current, without_status(manifest))
        status_same = status is None or contains(current.get("status") or {}, status)
        changes.append(Change("unchanged" if same else "updated", key, manifest, current,
                              status_changed=not status_same))
    for key in sorted(delete, key=lambda k: -rank(k[0], k[1])):
        changes.append(Change("deleted", key, live=live[key]))
    return Plan(changes)


def execute(api, plan_: Plan, check_mode: bool, missing_namespaces: set) -> None:
    """Send the writes the plan needs. In check mode, dry runs only, and none for objects in (or being)
    a namespace that does not exist yet: the server would refuse them, so they are previewed locally.
    Objects of one kind do not refer to each other, so each kind's writes go concurrently; the kinds keep the
    plan's order (a namespace before what it holds, records last, deletions in reverse)."""
    batches = []
    for change in plan_.changes:
        if not change.changed:
            continue
        api_version, kind, namespace, name = change.key
        if change.action != "deleted" and check_mode and (name if kind == "Namespace" else namespace) in missing_namespaces:
            continue
        batch = (change.action == "deleted", api_version, kind)
        if not batches or batches[-1][0] != batch:
            batches.append((batch, []))
        batches[-1][1].append(partial(_write, api, change, check_mode))
    for _batch, writes in batches:
        api.concurrently(writes)


def _write(api, change: Change, check_mode: bool) -> None:
    api_version, kind, namespace, name = change.key
    if change.action == "deleted":
        if not check_mode:
            api.delete(api_version, kind, name, namespace or None)
        return
    manifest = without_status(change.desired)
    if change.create_only:
        try:
            api.create(manifest, dry_run=check_mode)
        except ConflictError as error:
            raise ConflictError(f"{describe(change.key)} was created by someone else while this run was "
                                "deciding; it is not overwritten: run again to adopt it") from error
    elif change.action != "unchanged":
        api.apply(manifest, dry_run=check_mode)
    if change.status_changed and not check_mode:
        api.apply({"apiVersion": manifest["apiVersion"], "kind": manifest["kind"],
                   "metadata": {"name": manifest["metadata"]["name"],
                                "namespace": manifest["metadata"].get("namespace")},
                   "status": change.desired["status"]}, subresource="status")
