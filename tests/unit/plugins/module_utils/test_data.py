"""Helpers over plain data: a deep merge whose result never shares the overlay's structure (the base's untouched
parts are kept as they are, callers copy the base when they must), and Ansible's lazy containers turned into plain
dicts and lists."""
from __future__ import annotations

from collections import OrderedDict

from ansible_collections.aphex.platform.plugins.module_utils.data import deep_merge, merge_by_name, plain_data


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


def test_named_items_merge_by_name_as_a_strategic_patch_does():
    base = {"containers": [{"name": "app", "image": "a", "env": [{"name": "A", "value": "1"}]},
                           {"name": "side", "image": "s"}]}
    overlay = {"containers": [{"name": "app", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]},
                              {"name": "new", "image": "n"}]}
    assert merge_by_name(base, overlay) == {"containers": [
        {"name": "app", "image": "a", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]},
        {"name": "side", "image": "s"},
        {"name": "new", "image": "n"}]}
    assert base["containers"][0]["env"] == [{"name": "A", "value": "1"}]


def test_lists_without_names_and_scalars_are_replaced_by_name_merging_too():
    assert merge_by_name({"args": ["-a"], "n": 1}, {"args": ["-b"], "n": 2}) == {"args": ["-b"], "n": 2}
    # One unnamed item on either side: the list is not a list of named items, so it is replaced whole.
    assert merge_by_name({"l": [{"name": "x"}]}, {"l": [{"value": 1}]}) == {"l": [{"value": 1}]}


def test_plain_data_walks_mappings_and_sequences():
    value = plain_data(OrderedDict(a=(1, OrderedDict(b=[2]))))
    assert value == {"a": [1, {"b": [2]}]}
    assert value.__class__ is dict and value["a"][1].__class__ is dict  # not OrderedDict
