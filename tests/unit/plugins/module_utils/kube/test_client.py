"""The collection's Kubernetes client against a real socket and the real client library: a cluster that cannot be
used is named with the step, the address and the cause; a missing platform API names the app that serves it. Against
the real API server: tests/integration/test_connection.py and every integration test."""
from __future__ import annotations

import socket

import pytest
import yaml
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi, ClusterApiError, _reason


def kubeconfig_for(path, server: str) -> str:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t0ken-never-shown"}}]}))
    return str(path)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_refuses_is_named_with_the_step_and_the_cause(tmp_path):
    port = closed_port()
    with pytest.raises(ClusterApiError) as failed:
        ClusterApi(kubeconfig=kubeconfig_for(tmp_path / "k", f"https://127.0.0.1:{port}"), request_timeout=3)
    message = str(failed.value)
    assert message == (f"connecting to the API server (kubeconfig k in {tmp_path}) failed: the API server "
                       f"https://127.0.0.1:{port} gave no answer (connection refused, timeout 3 s)")
    assert "t0ken-never-shown" not in message


def test_a_kubeconfig_list_is_refused_with_what_is_accepted():
    with pytest.raises(ClusterApiError, match="kubeconfig must be a path .* or a kubeconfig as a dict"):
        ClusterApi(kubeconfig=["/a", "/b"])


def test_an_unusable_kubeconfig_is_named(tmp_path):
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nkind: Config\ncurrent-context: missing\n")
    with pytest.raises(ClusterApiError, match=f"^cannot use kubeconfig broken in {tmp_path}: "):
        ClusterApi(kubeconfig=str(broken))


def test_the_api_servers_own_message_is_the_reason():
    class Refused(Exception):
        body = b'{"kind": "Status", "message": "secrets \\"x\\" is forbidden: User cannot get"}'

    assert _reason(Refused()) == 'secrets "x" is forbidden: User cannot get'
    assert _reason(ValueError("plain")) == "plain"
