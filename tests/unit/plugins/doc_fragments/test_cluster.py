"""The doc fragment every cluster module extends documents exactly the options the runner adds beyond
kubernetes.core's, with the same type and default."""
from __future__ import annotations

import yaml
from ansible_collections.aphex.platform.plugins.doc_fragments.cluster import ModuleDocFragment
from ansible_collections.aphex.platform.plugins.module_utils.kube.args import CLUSTER_ARGS
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)


def test_the_fragment_documents_what_the_runner_adds_to_kubernetes_cores_options():
    added = {name: spec for name, spec in CLUSTER_ARGS.items() if name not in AUTH_ARG_SPEC}
    assert set(DOCUMENTED["options"]) == set(added)
    for name, spec in added.items():
        assert DOCUMENTED["options"][name]["type"] == spec["type"]
        assert DOCUMENTED["options"][name]["default"] == spec["default"]


def test_the_fragment_names_the_client_library_it_needs():
    assert any(line.startswith("kubernetes ") for line in DOCUMENTED["requirements"])
