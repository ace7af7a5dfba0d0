"""auth-config-sync: make Authentik's OAuth2 provider for Dex use the client secret Dex holds (dex-secrets), put the
bootstrap administrator (the owner of the bootstrap token, akadmin) in the platform admin group, then check that
Authentik and Dex publish the issuers the platform expects. Idempotent: the provider is patched only when its secret
differs and the administrator is only ever added to the group, never removed from anything. Runs as a Sync-hook Job
with the two secrets projected as files; standard library only."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class SyncError(Exception):
    pass


def read_secret(path: str) -> str:
    # Files written by hand often end in a newline, which breaks the Authorization header.
    with open(path, encoding="utf-8") as handle:
        value = handle.read().strip("\r\n")
    if not value:
        raise SyncError(f"{path} is empty")
    return value


def request(method: str, url: str, token: str | None = None, body: dict | None = None, timeout: float = 10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        raise SyncError(f"{method} {url}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SyncError(f"{method} {url}: {error}") from None
    if text.lstrip().startswith("<"):
        raise SyncError(f"{method} {url}: HTML instead of JSON (HTTP {status}); is the token valid?")
    return json.loads(text) if text else {}


def wait_until(check, what: str, attempts: int, delay: float):
    last = None
    for _attempt in range(attempts):
        try:
            return check()
        except SyncError as error:
            last = error
            time.sleep(delay)
    raise SyncError(f"{what} not reachable after {attempts} attempts: {last}")


def sync_provider(authentik: str, token: str, client_id: str, secret: str) -> str:
    """Patch the provider's client secret when it differs; say what happened."""
    listing = request("GET", f"{authentik}/api/v3/providers/oauth2/?client_id={client_id}", token)
    matches = [p for p in listing.get("results", []) if p.get("client_id") == client_id]
    if not matches:
        raise SyncError(f"no Authentik OAuth2 provider with client_id {client_id} (is the blueprint applied?)")
    if len(matches) > 1:
        raise SyncError(f"{len(matches)} Authentik OAuth2 providers with client_id {client_id}; remove the duplicates")
    provider = request("GET", f"{authentik}/api/v3/providers/oauth2/{matches[0]['pk']}/", token)
    if provider.get("client_secret") == secret:
        return "unchanged"
    request("PATCH", f"{authentik}/api/v3/providers/oauth2/{matches[0]['pk']}/", token, {"client_secret": secret})
    return "updated"


def ensure_admin_in_group(authentik: str, token: str, group_name: str) -> str:
    """Add the bootstrap token's owner to the group unless it is a member already; say what happened. Additive, so
    members added by hand stay, and it holds whichever of this job and the blueprint runs first."""
    me = request("GET", f"{authentik}/api/v3/core/users/me/", token).get("user") or {}
    if "pk" not in me:
        raise SyncError("the bootstrap token's user could not be read (/api/v3/core/users/me/)")
    who = me.get("username", me["pk"])
    if group_name in {group.get("name") for group in me.get("groups") or []}:
        return f"{who} already in {group_name}"
    query = urllib.parse.urlencode({"name": group_name})
    listing = request("GET", f"{authentik}/api/v3/core/groups/?{query}", token)
    matches = [g for g in listing.get("results", []) if g.get("name") == group_name]
    if not matches:
        raise SyncError(f"no Authentik group {group_name} (is the blueprint applied?)")
    request("POST", f"{authentik}/api/v3/core/groups/{matches[0]['pk']}/add_user/", token, {"pk": me["pk"]})
    return f"{who} added to {group_name}"


def check_issuer(discovery_url: str, expected: str) -> str:
    issuer = request("GET", discovery_url).get("issuer")
    if not issuer:
        raise SyncError(f"{discovery_url} has no issuer")
    if issuer.rstrip("/") != expected.rstrip("/"):
        return f"warning: {discovery_url} says issuer {issuer}, expected {expected}"
    return f"issuer {issuer}"


def main(env=None) -> int:
    env = os.environ if env is None else env
    attempts, delay = int(env.get("ATTEMPTS", "60")), float(env.get("DELAY", "5"))
    authentik, dex = env["AUTHENTIK_URL"].rstrip("/"), env["DEX_URL"].rstrip("/")
    try:
        secret = read_secret(env.get("DEX_CLIENT_SECRET_FILE", "/secrets/dex-client-secret"))
        token = read_secret(env.get("AUTHENTIK_TOKEN_FILE", "/secrets/authentik-token"))
        wait_until(lambda: request("GET", f"{authentik}/api/v3/root/config/"), "Authentik", attempts, delay)
        outcome = sync_provider(authentik, token, env.get("DEX_CLIENT_ID", "dex"), secret)
        print(f"Authentik provider for Dex: client secret {outcome}")
        if env.get("PLATFORM_ADMIN_GROUP"):
            print("Bootstrap administrator:", ensure_admin_in_group(authentik, token, env["PLATFORM_ADMIN_GROUP"]))
        print("Authentik:", check_issuer(f"{authentik}/application/o/dex/.well-known/openid-configuration",
                                         env["AUTHENTIK_ISSUER"]))
        wait_until(lambda: request("GET", f"{dex}/healthz"), "Dex", attempts, delay)
        print("Dex:", check_issuer(f"{dex}/.well-known/openid-configuration", env["DEX_ISSUER"]))
    except SyncError as error:
        print(f"auth-config-sync failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
