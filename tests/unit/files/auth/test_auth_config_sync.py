"""files/auth/auth_config_sync.py against a local HTTP server standing in for Authentik's and Dex's HTTP APIs."""
from __future__ import annotations

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from harness import REPO
SCRIPT = REPO / "files/auth/auth_config_sync.py"
spec = importlib.util.spec_from_file_location("auth_config_sync", SCRIPT)
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)
TOKEN = "bootstrap-token-123"


class Upstream:
    def __init__(self):
        self.providers = [{"pk": 7, "name": "dex", "client_id": "dex", "client_secret": "old"}]
        self.groups = [{"pk": "0b5e", "name": "platform-admins", "users": []},
                       {"pk": "77aa", "name": "authentik Admins", "users": [4]}]
        self.me = {"pk": 4, "username": "akadmin"}
        self.requests = []
        self.issuer = None
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                upstream.requests.append(("GET", self.path))
                base = f"http://127.0.0.1:{upstream.port}"
                if self.path.startswith("/api/v3/") and self.headers.get("Authorization") != f"Bearer {TOKEN}" \
                        and not self.path.startswith("/api/v3/root/"):
                    return self._send(403, {"detail": "token invalid"})
                if self.path == "/api/v3/root/config/" or self.path == "/healthz":
                    return self._send(200, {})
                if self.path.startswith("/api/v3/providers/oauth2/?"):
                    return self._send(200, {"results": upstream.providers})
                if self.path == "/api/v3/providers/oauth2/7/":
                    return self._send(200, upstream.providers[0])
                if self.path == "/api/v3/core/users/me/":
                    groups = [{"pk": g["pk"], "name": g["name"]} for g in upstream.groups
                              if upstream.me["pk"] in g["users"]]
                    return self._send(200, {"user": {**upstream.me, "groups": groups}, "original": None})
                if self.path.startswith("/api/v3/core/groups/?"):
                    name = parse_qs(urlsplit(self.path).query)["name"][0]
                    return self._send(200, {"results": [g for g in upstream.groups if g["name"] == name]})
                if self.path == "/application/o/dex/.well-known/openid-configuration":
                    return self._send(200, {"issuer": upstream.issuer or f"{base}/application/o/dex/"})
                if self.path == "/.well-known/openid-configuration":
                    return self._send(200, {"issuer": base})
                return self._send(404, {})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append(("POST", self.path, body))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(403, {"detail": "token invalid"})
                for group in upstream.groups:
                    if self.path == f"/api/v3/core/groups/{group['pk']}/add_user/":
                        if body["pk"] not in group["users"]:
                            group["users"].append(body["pk"])
                        self.send_response(204)
                        self.end_headers()
                        return None
                return self._send(404, {})

            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append(("PATCH", self.path, body))
                upstream.providers[0].update(body)
                return self._send(200, upstream.providers[0])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.server.shutdown()


def environment(tmp_path, upstream, secret="from-dex\n", token=TOKEN + "\r\n"):
    (tmp_path / "dex").write_text(secret)
    (tmp_path / "token").write_text(token)
    base = f"http://127.0.0.1:{upstream.port}"
    return {"AUTHENTIK_URL": base, "DEX_URL": base, "AUTHENTIK_ISSUER": f"{base}/application/o/dex/",
            "DEX_ISSUER": base, "DEX_CLIENT_SECRET_FILE": str(tmp_path / "dex"),
            "AUTHENTIK_TOKEN_FILE": str(tmp_path / "token"), "ATTEMPTS": "2", "DELAY": "0"}


def test_patches_the_provider_once_then_leaves_it(tmp_path, upstream, capsys):
    env = environment(tmp_path, upstream)
    assert sync.main(env) == 0
    assert upstream.providers[0]["client_secret"] == "from-dex"
    assert [r for r in upstream.requests if r[0] == "PATCH"] == [("PATCH", "/api/v3/providers/oauth2/7/",
                                                                 {"client_secret": "from-dex"})]
    assert sync.main(env) == 0
    assert len([r for r in upstream.requests if r[0] == "PATCH"]) == 1
    out = capsys.readouterr().out
    assert "client secret updated" in out and "client secret unchanged" in out
    assert "from-dex" not in out


def test_fails_clearly_without_the_blueprint_or_with_duplicates(tmp_path, upstream, capsys):
    env = environment(tmp_path, upstream)
    upstream.providers = []
    assert sync.main(env) == 1
    assert "no Authentik OAuth2 provider with client_id dex (is the blueprint applied?)" in capsys.readouterr().err
    upstream.providers = [{"pk": 7, "client_id": "dex"}, {"pk": 8, "client_id": "dex"}]
    assert sync.main(env) == 1
    assert "2 Authentik OAuth2 providers with client_id dex" in capsys.readouterr().err


def test_rejected_token_and_empty_secret_fail(tmp_path, upstream, capsys):
    assert sync.main(environment(tmp_path, upstream, token="wrong")) == 1
    assert "HTTP 403" in capsys.readouterr().err
    assert sync.main(environment(tmp_path, upstream, secret="\n")) == 1
    assert "is empty" in capsys.readouterr().err


def test_issuer_mismatch_is_a_warning(tmp_path, upstream, capsys):
    upstream.issuer = "https://elsewhere.example/application/o/dex/"
    assert sync.main(environment(tmp_path, upstream)) == 0
    assert "warning:" in capsys.readouterr().out


def test_unreachable_authentik_fails_after_the_attempts(tmp_path, upstream, capsys):
    env = {**environment(tmp_path, upstream), "AUTHENTIK_URL": "http://127.0.0.1:9"}
    assert sync.main(env) == 1
    assert "Authentik not reachable after 2 attempts" in capsys.readouterr().err


def test_bootstrap_admin_joins_the_platform_admin_group_once(tmp_path, upstream, capsys):
    """Issue 11 item 5: the bootstrap administrator was in no platform group, so its SSO login was only read-only in
    ArgoCD. The job adds the bootstrap token's owner to the admin group (whatever order Authentik applied its
    bootstrap blueprint and the platform's in), once, and never removes anyone."""
    env = {**environment(tmp_path, upstream), "PLATFORM_ADMIN_GROUP": "platform-admins"}
    upstream.groups[0]["users"] = [9]
    assert sync.main(env) == 0
    assert upstream.groups[0]["users"] == [9, 4]
    assert sync.main(env) == 0
    posts = [r for r in upstream.requests if r[0] == "POST"]
    assert posts == [("POST", "/api/v3/core/groups/0b5e/add_user/", {"pk": 4})]
    out = capsys.readouterr().out
    assert "akadmin added to platform-admins" in out and "akadmin already in platform-admins" in out


def test_a_missing_admin_group_fails_clearly(tmp_path, upstream, capsys):
    """Issue 11 item 5: without the blueprint's group the administrator cannot become a platform admin; say so."""
    upstream.groups = upstream.groups[1:]
    env = {**environment(tmp_path, upstream), "PLATFORM_ADMIN_GROUP": "platform-admins"}
    assert sync.main(env) == 1
    assert "no Authentik group platform-admins (is the blueprint applied?)" in capsys.readouterr().err
