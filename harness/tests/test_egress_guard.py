"""harness/controlplane/egress_guard.py, run as the control plane runs it: a CONNECT to a routed cluster address
reaches a server on 127.0.0.1 at the routed port, anything else is refused and counted, and a route can only lead to
loopback - its file holds port numbers, never hosts."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from harness.controlplane import egress_guard


@pytest.fixture
def guard(tmp_path):
    # Unix socket paths are limited to 107 bytes; pytest's temporary folders can be longer.
    sock = f"/tmp/aphex-guard-test-{os.getpid()}.sock"
    log, routes = tmp_path / "log", tmp_path / "routes.json"
    routes.write_text("{}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, egress_guard.__file__, sock, str(log), str(routes), str(port)])
    deadline = time.monotonic() + 10
    while not (os.path.exists(sock) and socket.socket().connect_ex(("127.0.0.1", port)) == 0) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    yield sock, log, routes, port
    process.terminate()
    process.wait(timeout=10)
    if os.path.exists(sock):
        os.unlink(sock)


@pytest.fixture
def echo_server():
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                connection = server.accept()[0]
            except OSError:
                return
            with connection:
                connection.sendall(b"echo:" + connection.recv(1024))

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def connect(sock, target: str, payload: bytes = b"") -> bytes:
    """CONNECT through the guard's Unix socket (the kube-apiserver's way) or, given a port, its loopback TCP
    listener (a local controller's HTTPS_PROXY)."""
    with socket.socket(socket.AF_INET if isinstance(sock, int) else socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(("127.0.0.1", sock) if isinstance(sock, int) else sock)
        client.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode() + payload)
        received = b""
        while chunk := client.recv(4096):
            received += chunk
            if payload and b"echo:" in received:
                break
        return received


def test_an_unrouted_address_is_refused_and_counted(guard):
    sock, log, _routes, _port = guard
    assert connect(sock, "10.0.0.12:443").startswith(b"HTTP/1.1 403")
    assert [a["request"] for a in egress_guard.attempts(log)] == ["CONNECT 10.0.0.12:443 HTTP/1.1"]
    assert egress_guard.routed(log) == []


def test_a_routed_address_reaches_loopback_at_its_port(guard, echo_server):
    sock, log, routes, _port = guard
    egress_guard.add_route(routes, "10.0.0.17:443", echo_server)
    answer = connect(sock, "10.0.0.17:443", b"hello")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"echo:hello")
    assert [(r["request"], r["routed"]) for r in egress_guard.routed(log)] == [
        ("CONNECT 10.0.0.17:443 HTTP/1.1", echo_server)]
    assert egress_guard.attempts(log) == []
    # Another port of the same address is not routed.
    assert connect(sock, "10.0.0.17:8443").startswith(b"HTTP/1.1 403")


def test_a_route_holds_a_port_only(tmp_path):
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"10.0.0.1:443": "192.0.2.1:443", "10.0.0.2:443": 70000, "10.0.0.3:443": True,
                                  "10.0.0.4:443": 8443}))
    assert egress_guard.routes_from(routes) == {"10.0.0.4:443": 8443}
    assert egress_guard.LOOPBACK == "127.0.0.1"


def test_a_local_controller_reaches_the_api_server_by_its_in_cluster_name_and_nothing_else(guard, echo_server):
    _sock, log, routes, port = guard
    egress_guard.add_route(routes, "kubernetes.default:443", echo_server)
    answer = connect(port, "kubernetes.default:443", b"hello")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"echo:hello")
    assert connect(port, "vault.example.com:443").startswith(b"HTTP/1.1 403")
    assert [a["request"] for a in egress_guard.attempts(log)] == ["CONNECT vault.example.com:443 HTTP/1.1"]
    assert [r["request"] for r in egress_guard.routed(log)] == ["CONNECT kubernetes.default:443 HTTP/1.1"]


def test_a_plain_http_request_by_name_is_routed_with_connection_close_and_an_unrouted_one_refused(guard, echo_server):
    _sock, log, routes, port = guard
    egress_guard.add_route(routes, "auth-authentik-server.auth-system.svc:80", echo_server)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"GET http://auth-authentik-server.auth-system.svc/keys HTTP/1.1\r\n"
                       b"Host: auth-authentik-server.auth-system.svc\r\nConnection: keep-alive, X-Hop\r\n"
                       b"X-Hop: 1\r\nProxy-Authorization: Basic c2VjcmV0\r\n\r\n")
        answer = client.recv(4096)
    assert answer == (b"echo:GET http://auth-authentik-server.auth-system.svc/keys HTTP/1.1\r\n"
                      b"Host: auth-authentik-server.auth-system.svc\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"GET http://auth.example.com:8080/ HTTP/1.1\r\nHost: auth.example.com\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 403")
    assert [r["request"] for r in egress_guard.routed(log)] == [
        "GET http://auth-authentik-server.auth-system.svc/keys HTTP/1.1"]
    assert [a["request"] for a in egress_guard.attempts(log)] == ["GET http://auth.example.com:8080/ HTTP/1.1"]


def test_a_plain_http_request_whose_head_never_ends_is_refused_and_nothing_reaches_the_server(guard, echo_server):
    _sock, log, routes, port = guard
    egress_guard.add_route(routes, "dex.auth-system.svc:5556", echo_server)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as client:
        client.sendall(b"GET http://dex.auth-system.svc:5556/keys HTTP/1.1\r\nHost: dex")
        client.shutdown(socket.SHUT_WR)
        assert client.recv(4096).startswith(b"HTTP/1.1 400")
    assert egress_guard.routed(log) == []


def test_the_authority_ends_at_a_query_as_well_as_a_path():
    assert egress_guard._target(["GET", "http://dex.auth-system.svc:5556?x=/y", "HTTP/1.1"]) == (  # pylint: disable=protected-access
        "dex.auth-system.svc:5556", False)
