"""A local server that follows Cloudflare's v4 REST contract for the endpoints
the collection uses (zones, cfd_tunnel and its token/configurations/connections,
DNS records), so the official SDK can be tested against it unmodified.

What it reproduces (shared/reference/cloudflare-api.md): the response envelope,
pagination (pages past the end return an empty result), exact-name and
is_deleted filters, soft-deleted tunnels, duplicate-name (409/1013), record
conflicts (81053/81054/81057), missing objects (404), the Bearer token check
and the ingress catch-all rule. Faults are injected per request pattern: a
status with Retry-After, a delay, or a connection dropped after the write.

Run standalone:  python -m harness.cloudflare.server --port 8787 --token T
Control API (not Cloudflare's): GET /__fake/requests, POST /__fake/faults,
POST /__fake/seed, POST /__fake/reset.
"""
from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/client/v4"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    """Everything the fake Cloudflare holds; one lock serialises requests."""

    def __init__(self, token: str, account_id: str = "acc-1", zones=("example.test",)):
        self.lock = threading.Lock()
        self.token = token
        self.account_id = account_id
        self.zones, self.tunnels, self.configs, self.connections, self.records = {}, {}, {}, {}, {}
        self.requests, self.faults = [], []
        for name in zones:
            self.add_zone(name)

    def add_zone(self, name: str) -> dict:
        zone = {"id": uuid.uuid4().hex, "name": name, "status": "active",
                "account": {"id": self.account_id, "name": "aphex-tests"}}
        self.zones[zone["id"]] = zone
        self.records[zone["id"]] = {}
        return zone


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-cloudflare/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, *args):  # quiet; the request log is the record
        pass

    # ---------------------------------------------------------------- plumbing
    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _send(self, status: int, payload, headers=None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _envelope(self, result, status=200, result_info=None):
        body = {"success": True, "errors": [], "messages": [], "result": result}
        if result_info is not None:
            body["result_info"] = result_info
        self._send(status, body)

    def _error(self, error: ApiError, headers=None):
        self._send(error.status, {"success": False, "errors": [{"code": error.code, "message": error.message}],
                                  "messages": [], "result": None}, headers)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path.startswith("/__fake/"):
            self._control(method, url.path, query)
            return
        body = self._body() if method in ("POST", "PUT", "PATCH") else {}
        fault = self._take_fault(method, url.path)
        with self.state.lock:
            self.state.requests.append({"method": method, "path": url.path.removeprefix(PREFIX), "query": query,
                                        "body": body, "retry": self.headers.get("x-stainless-retry-count", "0")})
        if fault and fault.get("delay"):
            time.sleep(fault["delay"])
        if fault and fault.get("status"):
            headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
            self._error(ApiError(fault["status"], fault.get("code", 10000 if fault["status"] != 429 else 10100),
                                 fault.get("message", "injected fault")), headers)
            return
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {self.state.token}":
            if not auth.startswith("Bearer "):
                self._error(ApiError(400, 6003, "Invalid request headers"))
            else:
                self._error(ApiError(403, 10000, "Authentication error"))
            return
        try:
            with self.state.lock:
                status, result, info = self._route(method, url.path.removeprefix(PREFIX), query, body)
        except ApiError as error:
            self._error(error)
            return
        if fault and fault.get("drop_after_write"):
            # The write happened; the client never hears about it.
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._envelope(result, status, info)

    def _take_fault(self, method: str, path: str):
        with self.state.lock:
            for fault in self.state.faults:
                if fault["times"] > 0 and fault.get("method", method) == method and re.search(fault["path"], path):
                    if fault.get("skip", 0) > 0:  # let this many matching requests through first
                        fault["skip"] -= 1
                        continue
                    fault["times"] -= 1
                    return dict(fault)
        return None

    def _control(self, method: str, path: str, query: dict) -> None:
        state = self.state
        if path == "/__fake/requests" and method == "GET":
            with state.lock:
                self._send(200, state.requests)
        elif path == "/__fake/faults" and method == "POST":
            fault = {"times": 1, **self._body()}
            with state.lock:
                state.faults.append(fault)
            self._send(200, fault)
        elif path == "/__fake/seed" and method == "POST":
            self._send(200, self._seed(self._body()))
        elif path == "/__fake/state" and method == "GET":
            with state.lock:
                self._send(200, {"tunnels": state.tunnels, "configs": state.configs, "records": state.records,
                                 "connections": state.connections, "zones": state.zones})
        elif path == "/__fake/reset" and method == "POST":
            with state.lock:
                state.requests.clear()
                state.faults.clear()
            self._send(200, {})
        else:
            self._send(404, {"error": "unknown control path"})

    def _seed(self, seed: dict) -> dict:
        """Objects made outside the module: foreign records, existing tunnels, live connectors."""
        state, made = self.state, {}
        with state.lock:
            for tunnel in seed.get("tunnels", []):
                made.setdefault("tunnels", []).append(self._new_tunnel(tunnel["name"], tunnel.get("config_src", "cloudflare")))
                if tunnel.get("deleted"):
                    made["tunnels"][-1]["deleted_at"] = _now()
                if tunnel.get("connections"):
                    state.connections[made["tunnels"][-1]["id"]] = [{"id": uuid.uuid4().hex, "client_id": uuid.uuid4().hex}]
            for record in seed.get("records", []):
                zone = next(z for z in state.zones.values() if z["name"] == record.pop("zone"))
                made.setdefault("records", []).append(self._new_record(zone["id"], record))
        return made

    # ------------------------------------------------------------------ routes
    def _route(self, method, path, query, body):
        state = self.state
        parts = [p for p in path.split("/") if p]
        if parts == ["zones"] and method == "GET":
            zones = [z for z in state.zones.values() if query.get("name") in (None, z["name"])
                     and query.get("account.id") in (None, z["account"]["id"])]
            return self._page(zones, query)
        if len(parts) >= 3 and parts[0] == "accounts" and parts[2] == "cfd_tunnel":
            if parts[1] != state.account_id:
                raise ApiError(403, 10000, "Authentication error")
            return self._tunnels(method, parts[3:], query, body)
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            if parts[1] not in state.zones:
                raise ApiError(400, 7003, f"Could not route to /zones/{parts[1]}, perhaps your object identifier is invalid?")
            return self._dns(method, parts[1], parts[3:], query, body)
        raise ApiError(400, 7000, "No route for that URI")

    def _page(self, items: list, query: dict):
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        chunk = items[(page - 1) * per_page: page * per_page]
        pages = max(1, -(-len(items) // per_page))
        return 200, chunk, {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
                            "total_pages": pages}

    def _new_tunnel(self, name: str, config_src: str) -> dict:
        tunnel_id = str(uuid.uuid4())
        secret = base64.b64encode(uuid.uuid4().bytes * 2).decode()
        tunnel = {"id": tunnel_id, "account_tag": self.state.account_id, "name": name, "created_at": _now(),
                  "deleted_at": None, "connections": [], "conns_active_at": None, "conns_inactive_at": None,
                  "tun_type": "cfd_tunnel", "metadata": {}, "status": "inactive",
                  "remote_config": config_src == "cloudflare", "config_src": config_src, "_secret": secret}
        self.state.tunnels[tunnel_id] = tunnel
        self.state.configs[tunnel_id] = {"version": 0, "config": None}
        return self._public(tunnel)

    @staticmethod
    def _public(tunnel: dict) -> dict:
        return {key: value for key, value in tunnel.items() if not key.startswith("_")}

    def _live_tunnel(self, tunnel_id: str) -> dict:
        tunnel = self.state.tunnels.get(tunnel_id)
        if tunnel is None or tunnel["deleted_at"]:
            raise ApiError(404, 1003, "Tunnel not found")
        return tunnel

    def _tunnels(self, method, rest, query, body):
        state = self.state
        if not rest:
            if method == "GET":
                tunnels = [self._public(t) for t in state.tunnels.values()
                           if query.get("name") in (None, t["name"])
                           and (query.get("is_deleted") is None
                                or (query["is_deleted"] == "true") == (t["deleted_at"] is not None))]
                return self._page(tunnels, query)
            if method == "POST":
                if any(t["name"] == body.get("name") and not t["deleted_at"] for t in state.tunnels.values()):
                    raise ApiError(409, 1013, "You already have a tunnel with this name. Delete the existing tunnel, "
                                              "or choose a different name for your new tunnel")
                created = self._new_tunnel(body["name"], body.get("config_src", "local"))
                secret = state.tunnels[created["id"]]["_secret"]
                return 200, {**created, "credentials_file": {"AccountTag": state.account_id, "TunnelID": created["id"],
                                                             "TunnelName": created["name"], "TunnelSecret": secret},
                             "token": self._token(state.tunnels[created["id"]])}, None
        tunnel_id = rest[0]
        if len(rest) == 1:
            if method == "GET":
                if tunnel_id not in state.tunnels:
                    raise ApiError(404, 1003, "Tunnel not found")
                return 200, self._public(state.tunnels[tunnel_id]), None
            if method == "DELETE":
                tunnel = self._live_tunnel(tunnel_id)
                if state.connections.get(tunnel_id):
                    raise ApiError(400, 1022, "Cannot delete tunnel because it has active connections")
                tunnel["deleted_at"] = _now()
                return 200, self._public(tunnel), None
        sub = rest[1]
        tunnel = self._live_tunnel(tunnel_id)
        if sub == "token" and method == "GET":
            return 200, self._token(tunnel), None
        if sub == "configurations":
            stored = state.configs[tunnel_id]
            if method == "PUT":
                ingress = (body.get("config") or {}).get("ingress") or []
                if not ingress or "hostname" in ingress[-1] or "path" in ingress[-1]:
                    raise ApiError(400, 1055, "Validation failed: The last ingress rule must match all URLs "
                                              "(i.e. it should not have a hostname or path filter)")
                stored["config"] = copy.deepcopy(body["config"])
                stored["version"] += 1
            return 200, {"account_id": state.account_id, "tunnel_id": tunnel_id, "version": stored["version"],
                         "config": stored["config"], "source": tunnel["config_src"], "created_at": _now()}, None
        if sub == "connections":
            if method == "DELETE":
                state.connections[tunnel_id] = []
                return 200, None, None
            return 200, state.connections.get(tunnel_id, []), None
        raise ApiError(400, 7000, "No route for that URI")

    @staticmethod
    def _token(tunnel: dict) -> str:
        return base64.b64encode(json.dumps({"a": tunnel["account_tag"], "t": tunnel["id"],
                                            "s": tunnel["_secret"]}).encode()).decode()

    def _new_record(self, zone_id: str, body: dict) -> dict:
        records = self.state.records[zone_id]
        name = body["name"].lower().rstrip(".")
        kind = body["type"]
        clashes = [r for r in records.values() if r["name"] == name]
        if any(r["type"] == kind and r["content"] == body.get("content") for r in clashes):
            raise ApiError(400, 81057, "Record already exists.")
        if kind in ("A", "AAAA", "CNAME") and any(r["type"] == "CNAME" for r in clashes):
            raise ApiError(400, 81054 if kind != "CNAME" else 81053, "A CNAME record with that host already exists."
                           if kind != "CNAME" else "An A, AAAA, or CNAME record with that host already exists.")
        if kind == "CNAME" and any(r["type"] in ("A", "AAAA") for r in clashes):
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        record = {"id": uuid.uuid4().hex, "name": name, "type": kind, "content": body.get("content", ""),
                  "proxiable": True, "proxied": bool(body.get("proxied", False)),
                  "ttl": 1 if body.get("proxied") else int(body.get("ttl", 1)), "settings": {}, "meta": {},
                  "comment": body.get("comment"), "tags": body.get("tags", []), "created_on": _now(),
                  "modified_on": _now()}
        records[record["id"]] = record
        return record

    def _dns(self, method, zone_id, rest, query, body):
        records = self.state.records[zone_id]
        if not rest:
            if method == "GET":
                name = (query.get("name.exact") or query.get("name") or "").lower()
                found = [r for r in records.values() if (not name or r["name"] == name)
                         and query.get("type") in (None, r["type"])]
                return self._page(found, query)
            if method == "POST":
                return 200, self._new_record(zone_id, body), None
        record = records.get(rest[0])
        if record is None:
            raise ApiError(404, 81044, "Record does not exist.")
        if method == "GET":
            return 200, record, None
        if method == "DELETE":
            del records[rest[0]]
            return 200, {"id": rest[0]}, None
        if method in ("PUT", "PATCH"):
            changes = body if method == "PATCH" else {"comment": None, "tags": [], **body}
            record.update({key: value for key, value in changes.items() if key in (
                "name", "type", "content", "proxied", "ttl", "comment", "tags")})
            record["name"] = record["name"].lower().rstrip(".")
            if record["proxied"]:
                record["ttl"] = 1
            record["modified_on"] = _now()
            return 200, record, None
        raise ApiError(400, 7000, "No route for that URI")


class FakeCloudflare:
    """Start in a thread (tests) or in the foreground (standalone)."""

    def __init__(self, token: str, port: int = 0, zones=("example.test",)):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.state = State(token, zones=zones)  # type: ignore[attr-defined]
        self.thread = None

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def start(self) -> "FakeCloudflare":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A local server following Cloudflare's v4 API contract")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--zone", action="append", default=None, help="zone name (repeatable)")
    args = parser.parse_args()
    fake = FakeCloudflare(args.token, args.port, tuple(args.zone or ["example.test"]))
    print(f"fake Cloudflare at {fake.base_url} (account {fake.state.account_id})", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
