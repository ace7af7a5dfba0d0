"""Helpers over plain data: a deep merge whose result never shares the overlay's structure (the base's untouched
parts are kept as they are, callers copy the base when they must), and Ansible's lazy containers turned into plain
dicts and lists."""
from __future__ import annotations

from collections import OrderedDict

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.data import (
    MergeError,
    deep_merge,
    strategic_merge,
    plain_data,
)


def test_dicts_merge_deeply_and_lists_and_scalars_are_replaced():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    overlay = {"a": {"c": [3], "e": {"f": 1}}, "d": None}
    assert deep_merge(base, overlay) == {"a": {"b": 1, "c": [3], "e": {"f": 1}}, "d": None}


def test_the_merge_never_shares_the_overlays_structure_nor_changes_the_base():
    base, overlay = {"a": {"b": [1]}}, {"a": {"x": [0]}, "c": {"d": [2]}}
    merged = deep_merge(base, overlay)
    merged["a"]["x"].append(9)
    merged["c"]["d"].append(9)
    merged["a"]["new"] = 1
    assert base == {"a": {"b": [1]}} and overlay == {"a": {"x": [0]}, "c": {"d": [2]}}


def test_named_items_strategic_merge_as_a_strategic_patch_does():
    base = {"containers": [{"name": "app", "image": "a", "env": [{"name": "A", "value": "1"}]},
                           {"name": "side", "image": "s"}]}
    overlay = {"containers": [{"name": "app", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]},
                              {"name": "new", "image": "n"}]}
    assert strategic_merge(base, overlay) == {"containers": [
        {"name": "app", "image": "a", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]},
        {"name": "side", "image": "s"},
        {"name": "new", "image": "n"}]}
    assert base["containers"][0]["env"] == [{"name": "A", "value": "1"}]


def test_lists_without_names_and_scalars_are_replaced_by_name_merging_too():
    assert strategic_merge({"args": ["-a"], "n": 1}, {"args": ["-b"], "n": 2}) == {"args": ["-b"], "n": 2}
    # A base list whose items are not all named is not merged by name: the overlay replaces it whole.
    assert strategic_merge({"l": [{"name": "x"}, {"value": 0}]}, {"l": [{"name": "x", "value": 1}]}) == {
        "l": [{"name": "x", "value": 1}]}


def test_volume_mounts_merge_by_mount_path_and_container_ports_by_port_as_kubectl_does():
    base = {"volumeMounts": [{"name": "config", "mountPath": "/a"}, {"name": "config", "mountPath": "/b"}],
            "ports": [{"containerPort": 8443, "name": "https"}]}
    overlay = {"volumeMounts": [{"name": "config", "mountPath": "/c"},
                                {"name": "config", "mountPath": "/b", "readOnly": True}],
               "ports": [{"containerPort": 9090}]}
    assert strategic_merge(base, overlay) == {
        "volumeMounts": [{"name": "config", "mountPath": "/a"}, {"name": "config", "mountPath": "/b", "readOnly": True},
                         {"name": "config", "mountPath": "/c"}],
        "ports": [{"containerPort": 8443, "name": "https"}, {"containerPort": 9090}]}


@pytest.mark.parametrize("overlay, message", [
    ({"containers": [{"image": "b"}]}, "containers: every item must carry its name"),
    ({"containers": [{"name": ["x"]}]}, "containers: every item must carry its name"),
    ({"containers": [{"name": "a"}, {"name": "a", "image": "c"}]}, "containers: two items with the same name"),
])
def test_a_keyed_list_is_never_replaced_by_a_patch_whose_items_lack_or_repeat_the_key(overlay, message):
    with pytest.raises(MergeError, match=message):
        strategic_merge({"containers": [{"name": "a", "image": "a"}]}, overlay)


def test_plain_data_walks_mappings_and_sequences():
    value = plain_data(OrderedDict(a=(1, OrderedDict(b=[2]))))
    assert value == {"a": [1, {"b": [2]}]}
    assert value.__class__ is dict and value["a"][1].__class__ is dict  # not OrderedDict
