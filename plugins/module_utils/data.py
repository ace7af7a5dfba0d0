# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers over plain data (dicts, lists, scalars) that every layer may use; they import nothing of the collection."""

from __future__ import annotations

import copy
from collections.abc import Mapping


def deep_merge(base, overlay):
    """overlay merged into base, dict by dict; lists and scalars of the overlay replace the base's."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


# The lists of a pod template whose items kubectl's strategic merge keys by something other than `name`.
MERGE_KEYS = {"volumeMounts": ("mountPath",), "volumeDevices": ("devicePath",), "ports": ("containerPort", "port")}


class MergeError(ValueError):
    """A patch's list cannot be merged by key: an item without the key, or two with the same one."""


def _merge_key(field, items: list):
    """The key the items of list FIELD are merged on - `name` unless MERGE_KEYS says otherwise - or None when the
    items do not all carry it (the list is then replaced whole)."""
    for key in MERGE_KEYS.get(field, ("name",)):
        if items and all(isinstance(item, dict) and isinstance(item.get(key), (str, int)) for item in items):
            return key
    return None


def strategic_merge(base, overlay, field=None):
    """overlay merged into base as `kubectl patch --type strategic` merges a Kubernetes object: dicts key by key,
    lists of keyed items (containers, env, volumes by `name`; volumeMounts by `mountPath`; ports by
    `containerPort` or `port`) item by item, overlay items with a new key appended; other lists and scalars of the
    overlay replace the base's. An overlay list for a keyed base list must key every item, once (MergeError)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    key = _merge_key(field, base) if isinstance(base, list) else None
    if key is None or not isinstance(overlay, list):
        return copy.deepcopy(overlay)
    if _merge_key(field, overlay) != key:
        raise MergeError(f"{field}: every item must carry its {key}, as the list it is merged into does")
    keys = [item[key] for item in overlay]
    if len(set(keys)) != len(keys):
        raise MergeError(f"{field}: two items with the same {key}")
    overlaid = {item[key]: item for item in overlay}
    merged = [strategic_merge(item, overlaid.pop(item[key])) if item[key] in overlaid else copy.deepcopy(item)
              for item in base]
    return merged + [copy.deepcopy(item) for item in overlay if item[key] in overlaid]


def plain_data(value):
    """The value as plain dicts and lists. Ansible hands filters lazily templated containers whose deepcopy costs
    seconds for the platform catalog (measured: 3.6 s of a 4 s task); walking them once templates each value once."""
    if isinstance(value, Mapping):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    return value
