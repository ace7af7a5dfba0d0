"""The connection options every cluster module takes are kubernetes.core's, plus the request timeout; a module's
parameters are handed to the client under kubernetes.core's names."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.kube.args import CLUSTER_ARGS, connection_options
from ansible_collections.aphex.platform.plugins.module_utils.kube.transport import DEFAULT_REQUEST_TIMEOUT
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def test_the_options_are_kubernetes_cores_and_the_request_timeout():
    assert {name: spec for name, spec in CLUSTER_ARGS.items() if name != "request_timeout"} == AUTH_ARG_SPEC
    assert CLUSTER_ARGS["request_timeout"] == {"type": "int", "default": DEFAULT_REQUEST_TIMEOUT}
    assert CLUSTER_ARGS["kubeconfig"].get("no_log") is True  # a kubeconfig given as a dict holds credentials


def test_connection_options_take_exactly_kubernetes_cores_names():
    params = {name: f"value-of-{name}" for name in CLUSTER_ARGS} | {"organizations": [], "request_timeout": 5}
    options = connection_options(params)
    assert set(options) == set(AUTH_ARG_SPEC)
    assert options["kubeconfig"] == "value-of-kubeconfig" and "request_timeout" not in options
