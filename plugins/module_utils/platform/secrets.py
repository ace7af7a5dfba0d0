# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets that are generated once and never rotated by accident.

Each key of a desired Secret has one source: `generate` (set only while the key is absent; an existing value
is never touched), `value` (from inventory, kept equal) or `copy` (kept equal to a key of another Secret,
possibly one generated earlier in the same call - how argocd-secret's Dex client secret always matches Dex's).
Reads: one LIST of Secrets per namespace involved. Writes: a POST for a missing Secret, a merge patch of the
keys that differ otherwise, so fields others own (ArgoCD writes server.secretkey into argocd-secret) stay.
"""

from __future__ import annotations

import base64
import re
import secrets
import string

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import DNS_LABEL, LABEL_MANAGED_BY, MANAGED_BY
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import REDACTED

GENERATORS = ("hex", "base64", "alphanumeric")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
SECRET_NAME = re.compile(r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")  # a DNS subdomain, of at most 253 characters


class SecretSpecError(AphexError):
    """The requested secrets are invalid; nothing was read or written."""


def generate(spec: dict) -> str:
    kind, size = spec["generate"], int(spec.get("length", 32))
    if kind == "hex":
        return secrets.token_hex(size)
    if kind == "base64":
        return base64.b64encode(secrets.token_bytes(size)).decode()
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _position in range(size))


def validate(specs: list) -> list:
    """Every problem with the request, each naming its secret and key."""
    problems, seen = [], set()
    known = {(spec.get("namespace"), spec.get("name")): (position, spec) for position, spec in enumerate(specs)}
    for index, spec in enumerate(specs):
        where = f"secrets[{index}]"
        name, namespace = spec.get("name") or "", spec.get("namespace") or ""
        if not DNS_LABEL.match(namespace):
            problems.append(f"{where}.namespace: '{namespace}' is not a valid namespace name")
        if not SECRET_NAME.match(name) or len(name) > 253:
            problems.append(f"{where}.name: '{name}' is not a valid Secret name")
        where = f"secret {namespace}/{name}"
        if (namespace, name) in seen:
            problems.append(f"{where}: listed twice")
        seen.add((namespace, name))
        if not spec.get("keys"):
            problems.append(f"{where}: keys is empty")
        for key, source in (spec.get("keys") or {}).items():
            field = f"{where} key '{key}'"
            if not SECRET_KEY.match(key):
                problems.append(f"{field}: keys are letters, digits, '-', '_' and '.'")
            if not isinstance(source, dict) or len(set(source) & {"generate", "value", "copy"}) != 1:
                problems.append(f"{field}: give exactly one of generate, value, copy")
                continue
            if "generate" in source:
                if source["generate"] not in GENERATORS:
                    problems.append(f"{field}: generate must be one of {', '.join(GENERATORS)}")
                length = source.get("length", 32)
                if not isinstance(length, int) or not 16 <= length <= 1024:
                    problems.append(f"{field}: length must be an integer from 16 to 1024")
            elif "value" in source:
                if not isinstance(source["value"], str) or not source["value"]:
                    problems.append(f"{field}: value must be a non-empty string")
            else:
                copy = source["copy"] if isinstance(source["copy"], dict) else {}
                position, target = known.get((copy.get("namespace", namespace), copy.get("name")), (index, {}))
                if position >= index or copy.get("key") not in (target.get("keys") or {}):
                    problems.append(f"{field}: copy must name a key (namespace, name, key) of a secret listed "
                                    f"before this one")
    return problems


def _decode(data: dict) -> dict:
    return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in (data or {}).items()}


def _encode(values: dict) -> dict:
    return {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}


class SecretMissingError(AphexError):
    """A Secret the run reads (credentials the operator provides) does not exist or lacks a key."""


def secret_values(api, name: str, namespace: str, keys: tuple, purpose: str) -> dict:
    """The named keys of one Secret, decoded (one GET); a missing Secret or key is an error naming both and what
    they are for - never a value."""
    current = api.get("v1", "Secret", name, namespace)
    if current is None:
        raise SecretMissingError(f"{purpose}: the Secret {namespace}/{name} does not exist; create it with the keys "
                                 f"{', '.join(keys)} (docs/operations.md)")
    values = _decode(current.get("data"))
    missing = [key for key in keys if not values.get(key)]
    if missing:
        raise SecretMissingError(f"{purpose}: the Secret {namespace}/{name} has no {', '.join(missing)}")
    return {key: values[key] for key in keys}


def _read(api, namespaces: list):
    """The namespaces that exist, and the decoded data of every Secret in them (one LIST per namespace)."""
    live_namespaces = api.namespace_names()
    live = {}
    for namespace in namespaces:
        if namespace in live_namespaces:
            for item in api.list("v1", "Secret", namespace=namespace):
                live[(namespace, item["metadata"]["name"])] = _decode(item.get("data"))
    return live_namespaces, live


def _decide(spec: dict, current: dict | None, values: dict):
    """The Secret's data after this run, and what happens to each key: a generated key is kept once it exists, a
    given value or a copy (of a Secret decided earlier in this run) is set when it differs."""
    final, actions = dict(current or {}), {}
    for key, source in spec["keys"].items():
        if "generate" in source:
            if key not in final:
                final[key], actions[key] = generate(source), "generated"
            continue
        wanted = source["value"] if "value" in source else \
            values[(source["copy"].get("namespace", spec["namespace"]), source["copy"]["name"])][source["copy"]["key"]]
        if final.get(key) != wanted:
            actions[key] = "set" if key not in final else "updated"
            final[key] = wanted
    return final, actions


def _write(api, spec: dict, current: dict | None, changed: dict, check_mode: bool) -> None:
    """Only the keys that change are sent: a new Secret is created (never applied over one another run made),
    an existing one merge-patched."""
    if current is None:
        api.create({"apiVersion": "v1", "kind": "Secret", "type": spec.get("type") or "Opaque",
                    "metadata": {"name": spec["name"], "namespace": spec["namespace"],
                                 "labels": {LABEL_MANAGED_BY: MANAGED_BY, **(spec.get("labels") or {})}},
                    "data": _encode(changed)}, dry_run=check_mode)
    else:
        api.merge_patch("v1", "Secret", spec["name"], spec["namespace"], {"data": _encode(changed)},
                        dry_run=check_mode)


def redacted_diff(namespace: str, name: str, current_keys, keys) -> dict:
    """A Secret's diff with key names only: the keys it holds that are asked for, then the keys asked for."""
    header = f"Secret {namespace}/{name}"
    return {"before_header": header, "after_header": header,
            "before": {key: REDACTED for key in sorted(current_keys or ()) if key in keys},
            "after": {key: REDACTED for key in sorted(keys)}}


def converge(connect, specs: list, check_mode: bool) -> dict:
    """Create missing Secrets and keys, keep inventory values and copies equal; return per-secret reports.
    connect() gives the cluster, asked for only once the request is valid."""
    problems = validate(specs)
    if problems:
        raise SecretSpecError("invalid secrets: " + "; ".join(problems))
    api = connect()
    namespaces = sorted({spec["namespace"] for spec in specs})
    live_namespaces, live = _read(api, namespaces)
    reports, diffs = [], []
    for namespace in namespaces:
        if namespace not in live_namespaces:
            if not check_mode:
                api.apply({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": namespace, "labels": {LABEL_MANAGED_BY: MANAGED_BY}}})
            reports.append({"kind": "Namespace", "name": namespace, "action": "created"})
    values = {}  # (namespace, name) -> the data decided, for the copies of later specs
    for spec in specs:
        current = live.get((spec["namespace"], spec["name"]))
        final, actions = _decide(spec, current, values)
        values[(spec["namespace"], spec["name"])] = final
        reports.append({"kind": "Secret", "namespace": spec["namespace"], "name": spec["name"],
                        "action": "created" if current is None else ("updated" if actions else "unchanged"),
                        "keys": {key: actions.get(key, "kept") for key in spec["keys"]}})
        if not actions:
            continue
        diffs.append(redacted_diff(spec["namespace"], spec["name"], current, spec["keys"]))
        # a namespace that does not exist yet cannot take a dry run: check mode only reports
        if not (check_mode and spec["namespace"] not in live_namespaces):
            _write(api, spec, current, {key: final[key] for key in actions}, check_mode)
    return {"objects": reports, "diffs": diffs, "changed": any(r["action"] != "unchanged" for r in reports)}
