# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a cluster cannot regenerate, taken out and put back.

Every Secret the platform writes carries `platform.aphex/managed-by=aphex-platform`: the generated platform secrets
(platform_secret), each organization's webhook secret (which GitHub holds a copy of) and tunnel token, a kubectl
tenant's the same. Those Secrets, with their namespaces' labels, are the backup: one LIST each, no timestamp, so
that an unchanged cluster exports the same document (playbooks/backup.yml writes its file only when it differs).

A restore runs on a fresh cluster before bootstrap. It creates what is missing and never overwrites: a Secret key
the cluster already holds with another value is a conflict, and any conflict stops the restore before its first
write (bootstrap ran before the restore, or the file is another cluster's). The generators then find every key
present and keep it, so nothing is regenerated."""

from __future__ import annotations

import base64
import binascii

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import REDACTED
from ansible_collections.aphex.platform.plugins.module_utils.naming import DNS_LABEL, LABEL_MANAGED_BY, MANAGED_BY
from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import SECRET_KEY, SECRET_NAME, redacted_diff

FORMAT = "aphex.platform/backup-v1"
SELECTOR = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
# Set by the API server from the name; never restored as a label of ours.
_AUTOMATIC_LABELS = ("kubernetes.io/metadata.name",)


class BackupError(AphexError):
    """The backup cannot be taken or put back; when restoring, nothing was written."""


def _labels(metadata: dict) -> dict:
    return {key: value for key, value in sorted((metadata.get("labels") or {}).items())
            if key not in _AUTOMATIC_LABELS}


def export(api, cluster: str) -> dict:
    """The backup document of the cluster: its managed Secrets (data as the API holds it, base64) and the labels of
    their namespaces, in a stable order."""
    secrets = sorted(api.list("v1", "Secret", label_selector=SELECTOR),
                     key=lambda item: (item["metadata"]["namespace"], item["metadata"]["name"]))
    wanted = {item["metadata"]["namespace"] for item in secrets}
    namespaces = [{"name": item["metadata"]["name"], "labels": _labels(item["metadata"])}
                  for item in sorted(api.list("v1", "Namespace"), key=lambda item: item["metadata"]["name"])
                  if item["metadata"]["name"] in wanted]
    return {"format": FORMAT, "cluster": cluster, "namespaces": namespaces,
            "secrets": [{"namespace": item["metadata"]["namespace"], "name": item["metadata"]["name"],
                         "type": item.get("type") or "Opaque", "labels": _labels(item["metadata"]),
                         "data": dict(sorted((item.get("data") or {}).items()))} for item in secrets]}


def contents(backup: dict) -> list:
    """What a backup holds, readable and without a value: `namespace/name: key, key`."""
    return [f"{secret['namespace']}/{secret['name']}: {', '.join(sorted(secret['data']))}"
            for secret in backup.get("secrets") or []]


def secret_values(backup: dict) -> list:
    """Every value of the backup as the document holds it (base64): what output must never show. The decoded
    values are never put in a result or message; masking them too would mask names that are also values (an OAuth
    client id such as `tekton-dashboard` inside Secret names)."""
    secrets = backup.get("secrets") if isinstance(backup, dict) else None
    return [value for secret in (secrets if isinstance(secrets, list) else []) if isinstance(secret, dict)
            for value in (secret.get("data").values() if isinstance(secret.get("data"), dict) else [])]


def redacted(backup) -> dict:
    """The document with every value replaced: how the module shows its own arguments."""
    if not isinstance(backup, dict):
        return backup
    secrets = backup.get("secrets")
    return {**backup, "secrets": [
        {**secret, "data": {key: REDACTED for key in secret["data"]}}
        if isinstance(secret, dict) and isinstance(secret.get("data"), dict) else secret
        for secret in (secrets if isinstance(secrets, list) else [])]}


def _string_map_problems(where: str, labels) -> list:
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        return [f"{where}: must map names to strings"]
    return []


def validate(backup) -> list:
    """Every problem of a backup document, each naming its place; values are never quoted."""
    if not isinstance(backup, dict) or backup.get("format") != FORMAT:
        return [f"not an aphex.platform backup (its format must be {FORMAT})"]
    problems = []
    if not isinstance(backup.get("cluster"), str) or not backup["cluster"]:
        problems.append("cluster: the name of the cluster the backup was taken from is missing")
    namespaces = backup.get("namespaces")
    if not isinstance(namespaces, list):
        problems.append("namespaces: must be a list")
        namespaces = []
    for index, namespace in enumerate(namespaces):
        name = namespace.get("name") if isinstance(namespace, dict) else None
        if not isinstance(name, str) or not DNS_LABEL.match(name):
            problems.append(f"namespaces[{index}].name: '{name}' is not a namespace name")
            continue
        problems += _string_map_problems(f"namespaces[{index}].labels", namespace.get("labels") or {})
    secrets = backup.get("secrets")
    if not isinstance(secrets, list):
        problems.append("secrets: must be a list")
        secrets = []
    listed = {namespace.get("name") for namespace in namespaces if isinstance(namespace, dict)}
    seen = set()
    for index, secret in enumerate(secrets):
        if not isinstance(secret, dict):
            problems.append(f"secrets[{index}]: must be a mapping")
            continue
        namespace, name = secret.get("namespace"), secret.get("name")
        where = f"secrets[{index}] ({namespace}/{name})"
        if namespace not in listed:
            problems.append(f"{where}.namespace: not among the backup's namespaces")
        if not isinstance(name, str) or not SECRET_NAME.match(name) or len(name) > 253:
            problems.append(f"{where}.name: not a Secret name")
        if (namespace, name) in seen:
            problems.append(f"{where}: listed twice")
        seen.add((namespace, name))
        if not isinstance(secret.get("type"), str) or not secret["type"]:
            problems.append(f"{where}.type: missing")
        problems += _string_map_problems(f"{where}.labels", secret.get("labels") or {})
        data = secret.get("data")
        if not isinstance(data, dict):  # empty is valid: a store the tenant has not filled yet
            problems.append(f"{where}.data: must map keys to base64 values")
            continue
        for key, value in data.items():
            if not isinstance(key, str) or not SECRET_KEY.match(key):
                problems.append(f"{where}.data: '{key}' is not a Secret key")
            try:
                base64.b64decode(value if isinstance(value, str) else None, validate=True)
            except (binascii.Error, TypeError, ValueError):
                problems.append(f"{where}.data['{key}']: not base64")
    return problems


def _read(api, namespaces: set):
    """The namespaces that exist, and the data of every Secret in those of the backup (one LIST per namespace)."""
    live_namespaces = api.namespace_names()
    live = {}
    for namespace in sorted(namespaces & live_namespaces):
        for item in api.list("v1", "Secret", namespace=namespace):
            live[(namespace, item["metadata"]["name"])] = item
    return live_namespaces, live


def _conflicts(secret: dict, current: dict) -> list:
    where = f"Secret {secret['namespace']}/{secret['name']}"
    found = []
    if (current.get("type") or "Opaque") != secret["type"]:
        found.append(f"{where} is of type {current.get('type')}, the backup's of type {secret['type']}")
    data = current.get("data") or {}
    found += [f"{where} key '{key}' holds another value" for key in sorted(secret["data"])
              if key in data and data[key] != secret["data"][key]]
    return found


def restore(connect, backup, cluster: str, allow_other_cluster: bool, check_mode: bool) -> dict:
    """Create the backup's missing namespaces, Secrets and keys; refuse, before any write, a backup that is invalid,
    of another cluster (unless allowed) or that conflicts with what the cluster holds. connect() gives the cluster,
    asked for only once the backup may be restored here."""
    problems = validate(backup)
    if problems:
        raise BackupError("the backup cannot be restored: " + "; ".join(problems) + "; nothing was restored",
                          problems=problems)
    if backup["cluster"] != cluster and not allow_other_cluster:
        raise BackupError(f"the backup was taken from cluster '{backup['cluster']}', not '{cluster}': restore it "
                          f"only where it belongs, or set aphex_restore_other_cluster: true to put another "
                          f"cluster's secrets here; nothing was restored")
    api = connect()
    live_namespaces, live = _read(api, {secret["namespace"] for secret in backup["secrets"]})
    conflicts = []
    for secret in backup["secrets"]:
        current = live.get((secret["namespace"], secret["name"]))
        if current is not None:
            conflicts += _conflicts(secret, current)
    if conflicts:
        raise BackupError("the cluster already holds other values than the backup (did bootstrap or onboard run "
                          "before the restore? a restore goes first, onto a fresh cluster): " + "; ".join(conflicts)
                          + "; nothing was restored", conflicts=conflicts)
    reports, diffs = [], []
    for namespace in backup["namespaces"]:
        if namespace["name"] in live_namespaces:
            continue
        reports.append({"kind": "Namespace", "name": namespace["name"], "action": "created"})
        if not check_mode:
            api.create({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace["name"], "labels": namespace.get("labels") or {}}})
    for secret in backup["secrets"]:
        current = live.get((secret["namespace"], secret["name"]))
        have = (current or {}).get("data") or {}
        missing = {key: value for key, value in secret["data"].items() if key not in have}
        action = "created" if current is None else ("updated" if missing else "unchanged")
        reports.append({"kind": "Secret", "namespace": secret["namespace"], "name": secret["name"], "action": action,
                        "keys": {key: "restored" if key in missing else "kept" for key in sorted(secret["data"])}})
        if action == "unchanged":
            continue
        diffs.append(redacted_diff(secret["namespace"], secret["name"], have, secret["data"]))
        # a namespace that does not exist yet cannot take a dry run: check mode only reports
        if check_mode and secret["namespace"] not in live_namespaces:
            continue
        if current is None:
            api.create({"apiVersion": "v1", "kind": "Secret", "type": secret["type"],
                        "metadata": {"name": secret["name"], "namespace": secret["namespace"],
                                     "labels": secret.get("labels") or {}},
                        "data": missing}, dry_run=check_mode)
        else:
            api.merge_patch("v1", "Secret", secret["name"], secret["namespace"], {"data": missing},
                            dry_run=check_mode)
    return {"objects": reports, "diffs": diffs, "changed": any(r["action"] != "unchanged" for r in reports)}
