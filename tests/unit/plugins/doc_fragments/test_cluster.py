"""The doc fragment every cluster module extends documents exactly the options the runner takes: kubernetes.core's
connection options - the same names, types, aliases and suboptions as its own fragment and argument spec, and for
each the environment variable kubernetes.core's code really reads - and the collection's request timeout. It is the
collection's own so that Galaxy, which documents a collection without its dependencies, can read every module's
documentation (docs/operations.md, "Releases")."""
from __future__ import annotations

import os
import re

import pytest
import yaml
from ansible_collections.aphex.platform.plugins.doc_fragments.cluster import ModuleDocFragment
from ansible_collections.aphex.platform.plugins.module_utils.kube.args import CLUSTER_ARGS
from ansible_collections.kubernetes.core.plugins.doc_fragments.k8s_auth_options import (
    ModuleDocFragment as KubernetesCoreFragment)
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_MAP, AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import _create_auth_spec, _create_headers

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
KUBERNETES_CORE = yaml.safe_load(KubernetesCoreFragment.DOCUMENTATION)["options"]
CONTRACT = ("type", "aliases", "elements", "choices", "default")


def contract(option: dict) -> dict:
    """What a playbook depends on: everything but the words."""
    shape = {key: option[key] for key in CONTRACT if key in option}
    if "suboptions" in option:
        shape["suboptions"] = {name: contract(sub) for name, sub in option["suboptions"].items()}
    return shape


def test_the_options_are_the_runners():
    assert set(DOCUMENTED) == set(CLUSTER_ARGS)
    assert DOCUMENTED["request_timeout"] == {**DOCUMENTED["request_timeout"], "type": "int",
                                             "default": CLUSTER_ARGS["request_timeout"]["default"]}


@pytest.mark.parametrize("name", sorted(AUTH_ARG_SPEC))
def test_each_connection_option_is_kubernetes_cores(name):
    assert contract(DOCUMENTED[name]) == contract(KUBERNETES_CORE[name])
    assert DOCUMENTED[name]["type"] == AUTH_ARG_SPEC[name].get("type", "str")
    assert sorted(DOCUMENTED[name].get("aliases", [])) == sorted(AUTH_ARG_SPEC[name].get("aliases", []))


def variable_of(description) -> str:
    [variable] = re.findall(r"E\((K8S_AUTH_[A-Z_]+)\)", " ".join(description))
    return variable


@pytest.mark.parametrize("name", sorted(set(AUTH_ARG_SPEC) - {"proxy_headers"}))
def test_the_variable_documented_for_an_option_is_the_one_kubernetes_core_reads(name, monkeypatch):
    for variable in [key for key in os.environ if key.startswith("K8S_AUTH_")]:
        monkeypatch.delenv(variable)
    bool_option = AUTH_ARG_SPEC[name].get("type") == "bool"
    monkeypatch.setenv(variable_of(DOCUMENTED[name]["description"]), "false" if bool_option else "a,b")
    if name.startswith("impersonate_"):
        header = {"impersonate_user": "Impersonate-User", "impersonate_groups": "Impersonate-Group"}[name]
        assert _create_headers()[header] in ("a,b", ["a", "b"])
    else:
        true_name = {arg: true for true, arg in AUTH_ARG_MAP.items()}[name]
        assert _create_auth_spec()[true_name] == (False if bool_option else "a,b")


@pytest.mark.parametrize("name", ["proxy_basic_auth", "basic_auth", "user_agent"])
def test_the_proxy_header_variables_are_the_ones_kubernetes_core_reads(name, monkeypatch):
    variable = variable_of(DOCUMENTED["proxy_headers"]["suboptions"][name]["description"])
    monkeypatch.setenv(variable, "v")
    assert _create_auth_spec()["proxy_headers"][name] == "v"


def test_the_fragment_names_the_client_library_it_needs():
    assert any(line.startswith("kubernetes ") for line in yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["requirements"])
