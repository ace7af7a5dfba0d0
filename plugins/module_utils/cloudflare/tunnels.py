# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one Cloudflare Tunnel, its ingress configuration and its DNS record
per organization, with the official SDK, in a constant number of requests.

A converged call costs one zone lookup, one tunnel listing and one DNS listing,
whatever the number of organizations: the hash of the ingress configuration
written last is kept in the DNS record's ownership comment, so configurations
are only read when asked to verify them (or written when they change).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from dataclasses import dataclass, field
from types import SimpleNamespace

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import eventlistener_url

try:
    import cloudflare
    from cloudflare.pagination import SyncV4PagePaginationArray

    HAS_CLOUDFLARE = True
    CLOUDFLARE_IMPORT_ERROR = None
except ImportError:
    HAS_CLOUDFLARE = False
    CLOUDFLARE_IMPORT_ERROR = traceback.format_exc()

MARKER = "aphex-platform"
PAGE = 1000
CATCH_ALL = {"service": "http_status:404"}
RETRY_CAP_SECONDS = 30
# The SDK lets CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY win over an explicit token.
AMBIENT_CREDENTIALS = ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_USER_SERVICE_KEY")


class TunnelError(AphexError):
    """A problem the module reports as a failure, with what to do about it."""


def ownership_comment(org: str, config_hash: str) -> str:
    return f"{MARKER} org={org} cfg={config_hash}"


def parse_comment(comment) -> dict:
    """The fields of our ownership comment, or {} when the record is not ours."""
    words = (comment or "").split()
    if not words or words[0] != MARKER:
        return {}
    return dict(word.split("=", 1) for word in words[1:] if "=" in word)


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]


def _normalise_ingress(config) -> list:
    """Compare only what the module owns: hostname/service/path of each rule."""
    rules = (config or {}).get("ingress") or []
    return [{key: rule[key] for key in ("hostname", "service", "path") if rule.get(key)} for rule in rules]


@dataclass
class Desired:
    organization: str
    state: str
    tunnel_name: str
    hostname: str
    service: str

    @property
    def config(self) -> dict:
        return {"ingress": [{"hostname": self.hostname, "service": self.service}, dict(CATCH_ALL)]}


def desired_tunnel(organization: str, state: str, zone: str, name_pattern: str = "webhooks-{organization}",
                   service_pattern: str | None = None) -> Desired:
    """What an organization's tunnel is: its name, its public host <organization>.<zone>, and the service it
    forwards to (the organization's EventListener unless a pattern says otherwise)."""
    service = service_pattern.format(organization=organization) if service_pattern else eventlistener_url(organization)
    return Desired(organization, state, name_pattern.format(organization=organization),
                   f"{organization}.{zone.lower().rstrip('.')}", service)


@dataclass
class Outcome:
    organization: str
    state: str
    tunnel_name: str
    hostname: str
    tunnel_id: str = ""
    actions: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(action not in ("unchanged", "absent", "pending") for action in self.actions.values())

    def report(self) -> dict:
        return {"organization": self.organization, "state": self.state, "tunnel_name": self.tunnel_name,
                "tunnel_id": self.tunnel_id, "hostname": self.hostname,
                "webhook_url": f"https://{self.hostname}" if self.state == "present" else "",
                "actions": dict(self.actions)}


class Tunnels:
    def __init__(self, api_token, account_id, base_url=None, timeout=30.0, max_retries=2, check_mode=False,
                 force=False, verify_config=False, sleep=time.sleep):
        for name in AMBIENT_CREDENTIALS:
            os.environ.pop(name, None)
        self.client = cloudflare.Cloudflare(api_token=api_token, base_url=base_url or None, timeout=timeout,
                                            max_retries=max_retries)
        # Creates are never replayed by the SDK: a replay after a lost answer
        # would meet our own object; we list and adopt instead.
        self.once = self.client.with_options(max_retries=0)
        self.account_id = account_id
        self.check_mode = check_mode
        self.force = force
        self.verify_config = verify_config
        self.sleep = sleep
        self.created = []  # (kind, zone_or_account, id) made by this call, for rollback

    # -------------------------------------------------------------- listings
    @staticmethod
    def _all(page) -> list:
        items = list(page.result or [])
        while len(page.result or []) >= PAGE:
            page = page.get_next_page()
            items += list(page.result or [])
        return items

    def zone_id(self, zone_name) -> str:
        zones = [z for z in self._all(self.client.zones.list(name=zone_name, account={"id": self.account_id},
                                                             per_page=50)) if z.name == zone_name]
        if len(zones) != 1:
            raise TunnelError(f"zone '{zone_name}' {'is not visible to the token' if not zones else 'is ambiguous'} "
                              f"in account {self.account_id}; pass zone_id or check the token's Zone:Read scope")
        return zones[0].id

    def live_tunnels(self) -> dict:
        """Non-deleted tunnels by name (a list, to notice duplicates). Listed through the SDK's own paginated
        request rather than its typed Zero Trust resource: that resource's first use imports the SDK's whole Zero
        Trust API (0.74 s of every converged run, measured), and a listing needs none of it."""
        found = {}
        for item in self._all(self.client.get_api_list(
                f"/accounts/{self.account_id}/cfd_tunnel", model=object, page=SyncV4PagePaginationArray,
                options={"params": {"is_deleted": False, "per_page": PAGE}})):
            tunnel = SimpleNamespace(**item)
            if getattr(tunnel, "deleted_at", None) is None:
                found.setdefault(tunnel.name, []).append(tunnel)
        return found

    def live_records(self, zone_id) -> dict:
        found = {}
        for record in self._all(self.client.dns.records.list(zone_id=zone_id, per_page=PAGE)):
            found.setdefault(record.name.lower().rstrip("."), []).append(record)
        return found

    # --------------------------------------------------------------- helpers
    def _retrying(self, action, describe, recover):
        """Run a create. On a lost answer, a conflict, 429 or 5xx, look (recover) before trying again."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return action()
            except cloudflare.APIConnectionError:
                reason, wait = "the connection failed", 1.0
            except cloudflare.RateLimitError as error:
                retry_after = error.response.headers.get("retry-after")
                reason, wait = f"rate limited (retry after {retry_after} s)", float(retry_after or 1)
            except cloudflare.InternalServerError as error:
                reason, wait = f"Cloudflare answered {error.status_code}", 1.0
            except cloudflare.ConflictError:
                reason, wait = "it already exists", 0.0
            except cloudflare.BadRequestError as error:
                codes = {e.code for e in error.errors or []}
                if not codes & {81053, 81057, 81058}:
                    raise
                reason, wait = "a record exists at that name", 0.0
            adopted = recover()
            if adopted is not None:
                return adopted
            if attempts >= 4 or wait > RETRY_CAP_SECONDS:
                raise TunnelError(f"{describe} failed: {reason}; gave up after {attempts} attempts")
            self.sleep(min(wait, RETRY_CAP_SECONDS) * attempts)

    @staticmethod
    def _single(name, matches):
        """The one live tunnel of that name, or None; several is an error the module never resolves by guessing."""
        if len(matches) > 1:
            raise TunnelError(f"{len(matches)} live tunnels are named '{name}' "
                              f"({', '.join(t.id for t in matches)}); delete the extra ones")
        return matches[0] if matches else None

    def _one_tunnel(self, name):
        return self._single(name, self.live_tunnels().get(name, []))

    # ------------------------------------------------------------- converge
    def converge(self, desired: list, zone_id: str) -> list:
        tunnels = self.live_tunnels()
        records = self.live_records(zone_id)
        outcomes = []
        try:
            for item in desired:
                outcome = Outcome(item.organization, item.state, item.tunnel_name, item.hostname)
                outcomes.append(outcome)
                if item.state == "present":
                    self._present(item, outcome, tunnels.get(item.tunnel_name, []), records.get(item.hostname, []),
                                  zone_id)
                else:
                    self._absent(item, outcome, tunnels.get(item.tunnel_name, []), records.get(item.hostname, []),
                                 zone_id)
        except (TunnelError, cloudflare.APIError) as error:
            undone = self.rollback()
            message = str(error) if isinstance(error, TunnelError) else f"Cloudflare refused a request: {error}"
            if undone:
                message += f"; rolled back what this run created: {', '.join(undone)}"
            raise TunnelError(message) from error
        return outcomes

    def _present(self, item: Desired, outcome: Outcome, tunnels: list, records: list, zone_id: str) -> None:
        tunnel = self._single(item.tunnel_name, tunnels)
        ours, blocking = self._records_at(item, records)
        self._refuse_what_is_not_ours(item, tunnel, blocking)
        tunnel = self._ensure_tunnel(item, outcome, tunnel)
        record, desired_hash = (ours[0] if ours else None), config_hash(item.config)
        self._ensure_config(item, outcome, tunnel, record, desired_hash)
        self._ensure_dns(item, outcome, record, desired_hash, ours[1:] + (blocking if self.force else []), zone_id)

    @staticmethod
    def _records_at(item: Desired, records: list):
        """The hostname's records: this organization's (by the ownership comment), and the foreign ones that a
        CNAME cannot coexist with."""
        ours, foreign = [], []
        for record in records:
            (ours if parse_comment(record.comment).get("org") == item.organization else foreign).append(record)
        return ours, [r for r in foreign if r.type in ("A", "AAAA", "CNAME")]

    def _refuse_what_is_not_ours(self, item: Desired, tunnel, blocking: list) -> None:
        """Before anything is created: a foreign record (without force) or a locally managed tunnel stops the run."""
        if blocking and not self.force:
            kinds = ", ".join(sorted({f"{r.type} -> {r.content}" for r in blocking}))
            raise TunnelError(f"{item.hostname} already has records this module does not own ({kinds}); "
                              "remove them or set force: true to replace them")
        if tunnel is not None and getattr(tunnel, "config_src", "cloudflare") == "local":
            raise TunnelError(f"tunnel '{item.tunnel_name}' ({tunnel.id}) is locally managed; its ingress cannot be "
                              "set through the API. Delete it or switch it to remote management in the dashboard")

    def _ensure_tunnel(self, item: Desired, outcome: Outcome, tunnel):
        if tunnel is not None:
            outcome.actions["tunnel"] = "unchanged"
        else:
            outcome.actions["tunnel"] = "created"
            outcome.after["tunnel"] = {"name": item.tunnel_name, "config_src": "cloudflare"}
            if not self.check_mode:
                tunnel = self._retrying(
                    lambda: self.once.zero_trust.tunnels.cloudflared.create(
                        account_id=self.account_id, name=item.tunnel_name, config_src="cloudflare"),
                    f"creating tunnel '{item.tunnel_name}'", lambda: self._one_tunnel(item.tunnel_name))
                self.created.append(("tunnel", self.account_id, tunnel.id))
        outcome.tunnel_id = tunnel.id if tunnel is not None else ""
        return tunnel

    def _config_stale(self, item: Desired, outcome: Outcome, tunnel, record, desired_hash: str) -> bool:
        """The DNS record's comment carries the hash of the configuration last written; verify_config reads the
        configuration itself to catch changes made outside this module."""
        recorded_hash = parse_comment(record.comment).get("cfg") if record is not None else None
        if recorded_hash != desired_hash or outcome.actions["tunnel"] == "created":
            return True
        if self.verify_config and tunnel is not None:
            current = self.client.zero_trust.tunnels.cloudflared.configurations.get(
                tunnel.id, account_id=self.account_id)
            return _normalise_ingress(getattr(current, "config", None) and current.config.to_dict()) != \
                _normalise_ingress(item.config)
        return False

    def _ensure_config(self, item: Desired, outcome: Outcome, tunnel, record, desired_hash: str) -> None:
        stale = self._config_stale(item, outcome, tunnel, record, desired_hash)
        outcome.actions["config"] = "updated" if stale else "unchanged"
        if stale:
            outcome.after["config"] = item.config
            if not self.check_mode:
                self.client.zero_trust.tunnels.cloudflared.configurations.update(
                    tunnel.id, account_id=self.account_id, config=item.config)

    def _ensure_dns(self, item: Desired, outcome: Outcome, record, desired_hash: str, replaced: list,
                    zone_id: str) -> None:
        """The proxied CNAME to the tunnel, compared field by field; `replaced` are this organization's duplicate
        records and, with force, the foreign ones."""
        target = f"{outcome.tunnel_id or '<new tunnel id>'}.cfargotunnel.com"
        wanted = {"type": "CNAME", "content": target, "proxied": True, "ttl": 1,
                  "comment": ownership_comment(item.organization, desired_hash)}
        current = ({"type": record.type, "content": record.content.rstrip("."), "proxied": record.proxied,
                    "ttl": record.ttl, "comment": record.comment} if record is not None else {})
        if record is not None and current == wanted:
            outcome.actions["dns"] = "unchanged"
            return
        outcome.before["dns"], outcome.after["dns"] = current, wanted
        outcome.actions["dns"] = "updated" if record is not None else "created"
        if self.check_mode:
            return
        for extra in replaced:
            self.client.dns.records.delete(extra.id, zone_id=zone_id)
        if record is not None:
            self.client.dns.records.update(record.id, zone_id=zone_id, name=item.hostname, **wanted)
            return
        created = self._retrying(
            lambda: self.once.dns.records.create(zone_id=zone_id, name=item.hostname, **wanted),
            f"creating the DNS record {item.hostname}", lambda: self._our_record(zone_id, item))
        self.created.append(("dns", zone_id, created.id))

    def _our_record(self, zone_id, item: Desired):
        for record in self.live_records(zone_id).get(item.hostname, []):
            if parse_comment(record.comment).get("org") == item.organization:
                return record
        return None

    def _absent(self, item: Desired, outcome: Outcome, tunnels: list, records: list, zone_id: str) -> None:
        """DNS record, then configuration, then connections, then the tunnel."""
        tunnel_ids = {t.id for t in tunnels}
        mine = [r for r in records if parse_comment(r.comment).get("org") == item.organization
                or (r.type == "CNAME" and r.content.rstrip(".").split(".")[0] in tunnel_ids)]
        outcome.actions["dns"] = "deleted" if mine else "absent"
        outcome.actions["tunnel"] = "deleted" if tunnels else "absent"
        outcome.tunnel_id = ", ".join(sorted(tunnel_ids))
        if self.check_mode:
            return
        for record in mine:
            try:
                self.client.dns.records.delete(record.id, zone_id=zone_id)
            except cloudflare.NotFoundError:
                pass
        for tunnel in tunnels:
            cloudflared = self.client.zero_trust.tunnels.cloudflared
            try:
                # Serving stops first: an empty configuration answers 404 to everything.
                cloudflared.configurations.update(tunnel.id, account_id=self.account_id, config={"ingress": [CATCH_ALL]})
                cloudflared.connections.delete(tunnel.id, account_id=self.account_id)
                cloudflared.delete(tunnel.id, account_id=self.account_id)
            except cloudflare.NotFoundError:
                continue
            except cloudflare.BadRequestError as error:
                if 1022 in {e.code for e in error.errors or []}:
                    raise TunnelError(f"tunnel '{item.tunnel_name}' ({tunnel.id}) still has connectors: stop the "
                                      "cloudflared Deployment of the organization, then run again") from error
                raise

    def rollback(self) -> list:
        """Delete, newest first, only what this call created."""
        undone = []
        for kind, scope, object_id in reversed(self.created):
            try:
                if kind == "dns":
                    self.client.dns.records.delete(object_id, zone_id=scope)
                else:
                    self.client.zero_trust.tunnels.cloudflared.delete(object_id, account_id=scope)
                undone.append(f"{kind} {object_id}")
            except cloudflare.APIError as error:
                undone.append(f"{kind} {object_id} (rollback failed: {error.message}; a rerun adopts it)")
        self.created.clear()
        return undone

    def token(self, tunnel_id: str) -> str:
        return self.client.zero_trust.tunnels.cloudflared.token.get(tunnel_id, account_id=self.account_id)
