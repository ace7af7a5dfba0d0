"""The kube-apiserver's only way to the cluster network: a proxy that refuses and counts.

The test control plane's kube-apiserver sends every connection it makes to the cluster network - admission and
conversion webhooks, aggregated APIs (APIServices), pod logs, exec and proxy - through its `cluster` egress
selector, which points here: an HTTP CONNECT proxy on a Unix socket that answers 403 to every request and writes
the target it was asked for, one JSON line each, to its log. So a Service or pod IP (10.0.0.0/24 here) is never
dialled, whatever a chart installs, and a test can assert that nothing even tried.

Stdlib only; run as a script: egress_guard.py SOCKET LOG
"""
import json
import os
import socket
import sys
import threading
import time


def serve(socket_path: str, log_path: str) -> None:
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    os.chmod(socket_path, 0o600)
    server.listen(64)
    lock = threading.Lock()

    def refuse(connection):
        with connection:
            connection.settimeout(10)
            request = b""
            try:
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                line = request.split(b"\r\n", 1)[0].decode("latin-1")
                with lock, open(log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"time": time.time(), "request": line}) + "\n")
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass

    while True:
        connection = server.accept()[0]
        threading.Thread(target=refuse, args=(connection,), daemon=True).start()


def attempts(log_path) -> list:
    """The connections refused so far: [{time, request}] (request: 'CONNECT 10.0.0.12:443 HTTP/1.1')."""
    try:
        with open(log_path, encoding="utf-8") as log:
            return [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
