"""The kube-apiserver's only way to the cluster network: a proxy that refuses and counts, or hands to loopback.

The test control plane's kube-apiserver sends every connection it makes to the cluster network - admission and
conversion webhooks, aggregated APIs (APIServices), pod logs, exec and proxy - through its `cluster` egress
selector, which points here: an HTTP CONNECT proxy on a Unix socket. A Service or pod IP (10.0.0.0/24 here) is
never dialled, whatever a chart installs:

- a target named in the routes file (`{"10.0.0.17:443": 41234}`: a Service's cluster address to a port) is
  connected to 127.0.0.1 at that port - the host is not configurable, so a route cannot lead off loopback. This
  is how the kube-apiserver reaches an admission webhook the test platform runs as a local process (Tekton's);
- every other target is answered 403.

The same proxy also listens on a loopback TCP port, for the local processes that stand in for in-cluster
controllers (External Secrets): their HTTP clients take it from HTTPS_PROXY/HTTP_PROXY, so a request to an
in-cluster name such as `kubernetes.default:443` arrives here by name - routed to the API server's loopback port
(a route the control plane writes) or refused and counted like the kube-apiserver's. A plain-HTTP request through
it (`GET http://NAME[:PORT]/... HTTP/1.1`, how an HTTP client sends an http:// URL to its proxy) is routed the same
way by NAME:PORT (port 80 when none), with `Connection: close` so that the client never sends a request for another
host down the same connection.

Each connection is one JSON line in the log: {time, request} and, when it was handed to loopback, routed (the
port). Stdlib only; run as a script: egress_guard.py SOCKET LOG [ROUTES [TCP_PORT]]
"""
import json
import os
import re
import socket
import sys
import threading
import time

LOOPBACK = "127.0.0.1"


def routes_from(path) -> dict:
    """The routes file's {"ADDRESS:PORT": local port}; an entry whose port is not a port number is dropped."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as routes:
            loaded = json.load(routes)
    except (OSError, ValueError):
        return {}
    return {target: port for target, port in loaded.items()
            if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536}


def _target(parts: list):
    """(ADDRESS:PORT, tunnel) asked for by a request line's parts: a CONNECT's target (a tunnel), or a plain-HTTP
    proxy request's `http://` authority (port 80 by default); (None, False) for anything else."""
    if len(parts) != 3:
        return None, False
    if parts[0] == "CONNECT":
        return parts[1], True
    if parts[1].startswith("http://"):
        authority = re.split(r"[/?#]", parts[1][len("http://"):], maxsplit=1)[0]
        return (authority if ":" in authority else f"{authority}:80"), False
    return None, False


def _closing(head: bytes) -> bytes:
    """A request head for the server: the client's connection headers (and those they name) and its proxy
    credentials dropped, `Connection: close` added."""
    lines = head.split(b"\r\n")
    named = {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization"}
    for line in lines[1:]:
        field, _colon, value = line.partition(b":")
        if field.strip().lower() in (b"connection", b"proxy-connection"):
            named |= {token.strip().lower() for token in value.split(b",")}
    kept = [lines[0]] + [line for line in lines[1:] if line.partition(b":")[0].strip().lower() not in named]
    return b"\r\n".join(kept + [b"Connection: close"])


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (sink, source):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(socket_path: str, log_path: str, routes_path: str | None = None, tcp_port: int | None = None) -> None:
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    os.chmod(socket_path, 0o600)
    server.listen(64)
    servers = [server]
    if tcp_port:
        proxy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        proxy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        proxy.bind((LOOPBACK, tcp_port))
        proxy.listen(64)
        servers.append(proxy)
    lock = threading.Lock()

    def record(entry: dict) -> None:
        with lock, open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"time": time.time(), **entry}) + "\n")

    def handle(connection):
        request = b""
        try:
            connection.settimeout(10)
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                request += chunk
            if not request:  # a probe that connected and went (the control plane's readiness check): no attempt
                connection.close()
                return
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split()
            target, tunnel = _target(parts)
            port = routes_from(routes_path).get(target) if target else None
            if port is not None and not tunnel and b"\r\n\r\n" not in request:
                # A head that never ended (or is over 64 KiB): nothing of it is passed on.
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                connection.close()
                return
            if port is None:
                record({"request": line})
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                connection.close()
                return
            record({"request": line, "routed": port})
            upstream = socket.create_connection((LOOPBACK, port), timeout=10)
        except OSError:
            connection.close()
            return
        connection.settimeout(None)
        upstream.settimeout(None)
        head, rest = (request.split(b"\r\n\r\n", 1) + [b""])[:2]
        try:
            if tunnel:
                connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                # The request itself goes to the server (which must take its absolute form, as HTTP/1.1 servers do).
                rest = _closing(head) + b"\r\n\r\n" + rest
            # Whatever the client sent after the CONNECT header is already the tunnel's.
            if rest:
                upstream.sendall(rest)
        except OSError:
            connection.close()
            upstream.close()
            return
        threading.Thread(target=_pipe, args=(upstream, connection), daemon=True).start()
        _pipe(connection, upstream)
        connection.close()
        upstream.close()

    def accept(listener):
        while True:
            connection = listener.accept()[0]
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    for listener in servers[1:]:
        threading.Thread(target=accept, args=(listener,), daemon=True).start()
    accept(servers[0])


def _entries(log_path) -> list:
    try:
        with open(log_path, encoding="utf-8") as log:
            return [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []


def attempts(log_path) -> list:
    """The connections refused so far - attempts to leave loopback: [{time, request}] (request: 'CONNECT
    10.0.0.12:443 HTTP/1.1')."""
    return [entry for entry in _entries(log_path) if "routed" not in entry]


def routed(log_path) -> list:
    """The connections handed to a loopback port so far: [{time, request, routed}]."""
    return [entry for entry in _entries(log_path) if "routed" in entry]


def add_route(routes_path, target: str, port: int) -> None:
    """Route TARGET ('ADDRESS:PORT', as the kube-apiserver will ask for it) to 127.0.0.1:PORT; the file is
    replaced whole, so the guard never reads half of it."""
    routes = routes_from(routes_path)
    routes[target] = int(port)
    temporary = f"{routes_path}.{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(routes, out)
    os.replace(temporary, routes_path)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None,
          int(sys.argv[4]) if len(sys.argv) > 4 else None)
