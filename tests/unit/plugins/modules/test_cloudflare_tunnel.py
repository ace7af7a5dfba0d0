"""aphex.platform.cloudflare_tunnel through its main(): an organization that is not a DNS label is refused before
Cloudflare is asked anything (the base URL here is a closed port), and the tunnel routes to the organization's
EventListener by default. Against the local Cloudflare API server with the official SDK:
tests/integration/test_cloudflare_tunnel.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.cloudflare_tunnel import desired_tunnels, main

from tests.unit.fixtures.modules import run_main

ACCOUNT = {"api_token": "t0ken-never-shown", "account_id": "0123", "zone": "Hooks.Example.", "base_url": "http://127.0.0.1:9"}


def test_a_name_that_is_not_a_dns_label_is_refused_before_any_request():
    result = run_main(main, {**ACCOUNT, "tunnels": [{"organization": "acme"}, {"organization": "Bad_Name"}]})
    assert result["failed"] is True
    assert result["problems"] == ["tunnels[1].organization: 'Bad_Name' is not a DNS label"]
    assert "t0ken-never-shown" not in str(result)


def test_the_tunnel_routes_to_the_organizations_listener_unless_told_otherwise():
    defaults = {"name_pattern": "webhooks-{organization}", "service_pattern": None}
    [item] = desired_tunnels({**ACCOUNT, **defaults, "tunnels": [{"organization": "acme", "state": "present"}]})
    assert (item.tunnel_name, item.hostname, item.service) == (
        "webhooks-acme", "acme.hooks.example", "http://el-github-listener.org-acme.svc.cluster.local:8080")
    [other] = desired_tunnels({**ACCOUNT, **defaults, "service_pattern": "http://proxy.{organization}:80",
                               "tunnels": [{"organization": "acme", "state": "absent"}]})
    assert (other.service, other.state) == ("http://proxy.acme:80", "absent")
