"""harness/platform/as_deployed.py gives a local process the environment its upstream Deployment gives the
container - plain values, empty values, the pod's namespace and name - and refuses what a local process cannot be
given rather than dropping it."""
from __future__ import annotations

import pytest

from harness.platform.as_deployed import environment

DEPLOYMENT = {"metadata": {"namespace": "tekton-pipelines", "name": "tekton-pipelines-webhook"}}


def test_values_empty_values_and_the_pods_namespace_and_name():
    container = {"env": [
        {"name": "WEBHOOK_PORT", "value": "8443"},
        {"name": "TEKTON_HUB_API"},  # `value: ""` as the API returns it
        {"name": "SYSTEM_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
    assert environment(DEPLOYMENT, container, kubectl=None) == {
        "WEBHOOK_PORT": "8443", "TEKTON_HUB_API": "", "SYSTEM_NAMESPACE": "tekton-pipelines",
        "POD": "tekton-pipelines-webhook"}


def test_a_value_from_a_secret_is_refused_by_name():
    container = {"env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
    with pytest.raises(SystemExit, match="TOKEN comes from"):
        environment(DEPLOYMENT, container, kubectl=None)
