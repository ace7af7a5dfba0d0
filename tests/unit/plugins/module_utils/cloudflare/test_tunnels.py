"""Tunnels, their configuration and DNS records through the official SDK against the local Cloudflare API server
(harness/cloudflare), in this process: ownership comments, the configuration hash, a converge from nothing and a
second one that changes nothing, and a record of someone else's left alone. Through the module and ansible-playbook,
with faults injected: tests/integration/test_cloudflare_tunnel.py."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnels import (
    Desired, TunnelError, Tunnels, config_hash, ownership_comment, parse_comment)

from harness.cloudflare.server import FakeCloudflare

ZONE = "hooks.example.test"


@pytest.fixture
def cloudflare():
    server = FakeCloudflare("unit-token", zones=(ZONE,)).start()
    try:
        yield server
    finally:
        server.stop()


def desired(org: str, state: str = "present") -> Desired:
    return Desired(org, state, f"webhooks-{org}", f"{org}.{ZONE}",
                   f"http://el-github-listener.org-{org}.svc.cluster.local:8080")


def tunnels(server, **options) -> Tunnels:
    return Tunnels("unit-token", server.state.account_id, server.base_url, timeout=5, max_retries=0, **options)


def test_the_ownership_comment_reads_back_and_others_are_not_ours():
    assert parse_comment(ownership_comment("acme", "0a1b2c3d")) == {"org": "acme", "cfg": "0a1b2c3d"}
    assert parse_comment("managed by hand") == {} and parse_comment(None) == {}


def test_the_configuration_hash_follows_the_configuration_not_its_key_order():
    config = desired("acme").config
    assert config == {"ingress": [{"hostname": f"acme.{ZONE}", "service": "http://el-github-listener.org-acme.svc."
                                   "cluster.local:8080"}, {"service": "http_status:404"}]}
    reordered = {"ingress": [dict(reversed(list(rule.items()))) for rule in config["ingress"]]}
    assert config_hash(config) == config_hash(reordered)
    assert config_hash(config) != config_hash(desired("bolt").config)


def test_a_converge_creates_tunnel_configuration_and_record_then_changes_nothing(cloudflare):
    client = tunnels(cloudflare)
    zone_id = client.zone_id(ZONE)
    [first] = client.converge([desired("acme")], zone_id)
    assert first.changed and first.tunnel_id
    assert first.report()["webhook_url"] == f"https://acme.{ZONE}"
    [record] = [r for zone in cloudflare.state.records.values() for r in zone.values() if r["name"] == f"acme.{ZONE}"]
    assert record["type"] == "CNAME" and record["content"] == f"{first.tunnel_id}.cfargotunnel.com" and record["proxied"]
    assert parse_comment(record["comment"])["org"] == "acme"
    [second] = tunnels(cloudflare).converge([desired("acme")], zone_id)
    assert not second.changed and second.tunnel_id == first.tunnel_id


def test_a_record_of_someone_else_at_the_hostname_is_refused_unless_forced(cloudflare):
    client = tunnels(cloudflare)
    zone_id = client.zone_id(ZONE)
    client.client.dns.records.create(zone_id=zone_id, type="A", name=f"acme.{ZONE}", content="192.0.2.1", ttl=1)
    with pytest.raises(TunnelError) as refused:
        client.converge([desired("acme")], zone_id)
    assert str(refused.value) == (f"acme.{ZONE} already has records this module does not own (A -> 192.0.2.1); "
                                  "remove them or set force: true to replace them")
    assert cloudflare.state.tunnels == {}  # refused before anything was created
    [forced] = tunnels(cloudflare, force=True).converge([desired("acme")], zone_id)
    assert forced.changed
    assert [r["type"] for zone in cloudflare.state.records.values() for r in zone.values()] == ["CNAME"]
