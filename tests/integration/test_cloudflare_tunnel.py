"""aphex.platform.cloudflare_tunnel through ansible-playbook, with the official SDK, against the local
server that follows Cloudflare's API contract (harness/cloudflare)."""
from __future__ import annotations

import json

import pytest

from harness.playbooks import run_playbook
from harness.cloudflare.server import FakeCloudflare

from harness import REPO
PLAYBOOK = REPO / "tests/integration/playbooks/cloudflare_tunnel.yml"
TOKEN = "cf-test-token-0123456789"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def fake():
    server = FakeCloudflare(TOKEN, zones=("example.test", "other.test")).start()
    yield server
    server.stop()


def converge(fake, tmp_path, orgs, *args, env=None, **options):
    tunnels = [o if isinstance(o, dict) else {"organization": o} for o in orgs]
    arguments = {"api_token": TOKEN, "account_id": fake.state.account_id, "zone": "example.test",
                 "base_url": fake.base_url, "tunnels": tunnels, "max_retries": 2, **options}
    extra = tmp_path / "cf_args.json"
    extra.write_text(json.dumps({"cf_args": arguments}))
    run = run_playbook(PLAYBOOK, "-e", f"@{extra}", *args, extra_env=env)
    results = run.task_results("Converge the tunnels", "localhost")
    return run, (results[0] if results else {})


def requests(fake, since=0):
    return fake.state.requests[since:]


def writes(fake, since=0):
    return [(r["method"], r["path"]) for r in requests(fake, since) if r["method"] in WRITES]


def live_tunnels(fake, name=None):
    return [t for t in fake.state.tunnels.values() if not t["deleted_at"] and name in (None, t["name"])]


def records(fake, name):
    zone = next(z for z in fake.state.zones.values() if z["name"] == "example.test")
    return [r for r in fake.state.records[zone["id"]].values() if r["name"] == name]


def test_creates_a_remote_tunnel_its_ingress_and_a_proxied_owned_cname(fake, tmp_path):
    run, result = converge(fake, tmp_path, ["acme", "bolt"])
    assert run.returncode == 0, run.output
    [tunnel] = live_tunnels(fake, "webhooks-acme")
    assert tunnel["config_src"] == "cloudflare"
    assert fake.state.configs[tunnel["id"]]["config"] == {"ingress": [
        {"hostname": "acme.example.test", "service": "http://el-github-listener.org-acme.svc.cluster.local:8080"},
        {"service": "http_status:404"}]}
    [record] = records(fake, "acme.example.test")
    assert (record["type"], record["content"], record["proxied"], record["ttl"]) == (
        "CNAME", f"{tunnel['id']}.cfargotunnel.com", True, 1)
    assert record["comment"].startswith("aphex-platform org=acme cfg=") and len(record["comment"]) < 100
    acme = result["tunnels"][0]
    assert acme["actions"] == {"tunnel": "created", "config": "updated", "dns": "created"}
    assert acme["webhook_url"] == "https://acme.example.test" and acme["tunnel_id"] == tunnel["id"]
    assert result["changed"] is True


def test_fifty_converged_organizations_cost_a_constant_handful_of_requests(fake, tmp_path):
    orgs = [f"org{i:02d}" for i in range(50)]
    run = converge(fake, tmp_path, orgs)[0]
    assert run.returncode == 0, run.output
    mark = len(fake.state.requests)
    again, result = converge(fake, tmp_path, orgs)
    assert again.returncode == 0, again.output
    assert result["changed"] is False and again.changed == 0
    assert writes(fake, mark) == []
    assert len(requests(fake, mark)) <= 10, [(r["method"], r["path"]) for r in requests(fake, mark)]
    assert {r["path"].split("/")[-1] for r in requests(fake, mark)} == {"zones", "cfd_tunnel", "dns_records"}


def test_check_mode_sends_no_write(fake, tmp_path):
    run, result = converge(fake, tmp_path, ["acme"], "--check", "--diff")
    assert run.returncode == 0, run.output
    assert result["tunnels"][0]["actions"] == {"tunnel": "created", "config": "updated", "dns": "created"}
    assert writes(fake) == [] and fake.state.tunnels == {}
    assert result["diff"][0]["after"]["dns"]["proxied"] is True


def test_drifted_record_is_corrected_in_place(fake, tmp_path):
    assert converge(fake, tmp_path, ["acme"])[0].returncode == 0
    [record] = records(fake, "acme.example.test")
    record.update(proxied=False, ttl=300, content="elsewhere.example.net")
    mark = len(fake.state.requests)
    run, result = converge(fake, tmp_path, ["acme"], "--diff")
    assert run.returncode == 0, run.output
    assert result["tunnels"][0]["actions"] == {"tunnel": "unchanged", "config": "unchanged", "dns": "updated"}
    assert [method for method, _path in writes(fake, mark)] == ["PUT"]
    [fixed] = records(fake, "acme.example.test")
    assert fixed["id"] == record["id"] and fixed["proxied"] is True and fixed["content"].endswith(".cfargotunnel.com")
    assert result["diff"][0]["before"]["dns"]["content"] == "elsewhere.example.net"


def test_drifted_configuration_is_found_when_verified(fake, tmp_path):
    assert converge(fake, tmp_path, ["acme"])[0].returncode == 0
    [tunnel] = live_tunnels(fake, "webhooks-acme")
    fake.state.configs[tunnel["id"]]["config"] = {"ingress": [{"service": "http_status:503"}]}
    assert converge(fake, tmp_path, ["acme"])[1]["changed"] is False  # not read unless asked
    run, result = converge(fake, tmp_path, ["acme"], verify_config=True)
    assert run.returncode == 0 and result["tunnels"][0]["actions"]["config"] == "updated"
    assert fake.state.configs[tunnel["id"]]["config"]["ingress"][0]["hostname"] == "acme.example.test"


def test_an_existing_tunnel_of_that_name_is_adopted_not_duplicated(fake, tmp_path):
    tunnel_id = _seed_tunnel(fake, "webhooks-acme")
    _seed_tunnel(fake, "webhooks-acme", deleted=True)  # a soft-deleted namesake does not count
    run, result = converge(fake, tmp_path, ["acme"])
    assert run.returncode == 0, run.output
    assert result["tunnels"][0]["actions"]["tunnel"] == "unchanged"
    assert [t["id"] for t in live_tunnels(fake, "webhooks-acme")] == [tunnel_id]
    assert records(fake, "acme.example.test")[0]["content"] == f"{tunnel_id}.cfargotunnel.com"


def test_two_live_tunnels_with_the_name_fail_without_choosing(fake, tmp_path):
    ids = [_seed_tunnel(fake, "webhooks-acme") for _attempt in range(2)]
    run, result = converge(fake, tmp_path, ["acme"])
    assert run.returncode != 0
    assert result["msg"].startswith("2 live tunnels are named 'webhooks-acme'") and all(i in result["msg"] for i in ids)
    assert writes(fake) == []


def test_a_foreign_record_is_never_overwritten_unless_forced(fake, tmp_path):
    _seed_record(fake, {"type": "A", "name": "acme.example.test", "content": "192.0.2.7", "proxied": False})
    run, result = converge(fake, tmp_path, ["acme"])
    assert run.returncode != 0
    assert result["msg"] == ("acme.example.test already has records this module does not own (A -> 192.0.2.7); "
                             "remove them or set force: true to replace them")
    assert writes(fake) == [] and fake.state.tunnels == {}
    run, result = converge(fake, tmp_path, ["acme"], force=True)
    assert run.returncode == 0, run.output
    [record] = records(fake, "acme.example.test")
    assert record["type"] == "CNAME" and record["comment"].startswith("aphex-platform org=acme")


def test_state_absent_deletes_dns_then_configuration_then_connections_then_tunnel(fake, tmp_path):
    assert converge(fake, tmp_path, ["acme", "bolt"])[0].returncode == 0
    [tunnel] = live_tunnels(fake, "webhooks-acme")
    fake.state.connections[tunnel["id"]] = [{"id": "c1"}]
    mark = len(fake.state.requests)
    run, result = converge(fake, tmp_path, [{"organization": "acme", "state": "absent"}, "bolt"])
    assert run.returncode == 0, run.output
    assert [(m, p.split("/")[-1] if m != "DELETE" or "dns" in p or "connections" in p else "tunnel")
            for m, p in writes(fake, mark)] == [
        ("DELETE", records_path_tail(fake, mark)), ("PUT", "configurations"), ("DELETE", "connections"),
        ("DELETE", "tunnel")]
    assert live_tunnels(fake, "webhooks-acme") == [] and records(fake, "acme.example.test") == []
    assert live_tunnels(fake, "webhooks-bolt") and records(fake, "bolt.example.test")
    assert result["tunnels"][0]["actions"] == {"dns": "deleted", "tunnel": "deleted"}
    again = converge(fake, tmp_path, [{"organization": "acme", "state": "absent"}, "bolt"])[1]
    assert again["changed"] is False


def records_path_tail(fake, mark):
    return next(r["path"].split("/")[-1] for r in requests(fake, mark) if r["method"] == "DELETE")


@pytest.mark.parametrize("fault", [
    {"method": "POST", "path": "/cfd_tunnel$", "status": 429, "retry_after": 1, "times": 2},
    {"method": "POST", "path": "/cfd_tunnel$", "status": 500, "times": 1},
    {"method": "POST", "path": "/cfd_tunnel$", "drop_after_write": True, "times": 1},
    {"method": "POST", "path": "/dns_records$", "status": 429, "retry_after": 1, "times": 1},
    {"method": "POST", "path": "/dns_records$", "drop_after_write": True, "times": 1},
    {"method": "PUT", "path": "/configurations$", "status": 502, "times": 1},
    {"method": "GET", "path": "/cfd_tunnel$", "delay": 1.5, "times": 1},
], ids=["tunnel-429", "tunnel-500", "tunnel-dropped-after-write", "dns-429", "dns-dropped-after-write",
        "config-502", "slow-listing"])
def test_injected_faults_end_converged_without_duplicates(fake, tmp_path, fault):
    fake.state.faults.append(dict(fault))
    run, result = converge(fake, tmp_path, ["acme"])
    assert run.returncode == 0, run.output
    assert len(live_tunnels(fake, "webhooks-acme")) == 1
    assert len(records(fake, "acme.example.test")) == 1
    assert fake.state.faults[0]["times"] == 0  # the fault did fire
    mark = len(fake.state.requests)
    assert converge(fake, tmp_path, ["acme"])[1]["changed"] is False
    assert writes(fake, mark) == []


def test_a_failure_part_way_removes_only_what_this_call_created(fake, tmp_path):
    adopted = _seed_tunnel(fake, "webhooks-bolt")
    # bolt's record goes through; acme's is refused after acme's tunnel was created
    fake.state.faults.append({"method": "POST", "path": "/dns_records$", "status": 400, "code": 9999,
                              "message": "injected refusal", "skip": 1, "times": 5})
    run, result = converge(fake, tmp_path, ["bolt", "acme"])
    assert run.returncode != 0
    assert "injected refusal" in result["msg"] and "rolled back what this run created" in result["msg"]
    assert [t["id"] for t in live_tunnels(fake)] == [adopted]  # acme's new tunnel is gone, the adopted one stays
    assert records(fake, "bolt.example.test") == [] and records(fake, "acme.example.test") == []


def test_ambient_email_and_key_do_not_override_the_token(fake, tmp_path):
    run = converge(fake, tmp_path, ["acme"], env={"CLOUDFLARE_EMAIL": "x@y.z", "CLOUDFLARE_API_KEY": "k"})[0]
    assert run.returncode == 0, run.output
    assert live_tunnels(fake, "webhooks-acme")


def test_a_wrong_token_fails_clearly_and_is_not_printed(fake, tmp_path):
    tunnels = [{"organization": "acme"}]
    extra = tmp_path / "args.json"
    extra.write_text(json.dumps({"cf_args": {"api_token": "wrong-secret-token", "account_id": fake.state.account_id,
                                             "zone": "example.test", "base_url": fake.base_url, "tunnels": tunnels}}))
    run = run_playbook(PLAYBOOK, "-e", f"@{extra}", "-vvv")
    assert run.returncode != 0
    assert "wrong-secret-token" not in run.output


def _seed_tunnel(fake, name, deleted=False):
    handler = _handler(fake)
    with fake.state.lock:
        tunnel = handler._new_tunnel(name, "cloudflare")
    if deleted:
        fake.state.tunnels[tunnel["id"]]["deleted_at"] = "2026-01-01T00:00:00Z"
    return tunnel["id"]


def _seed_record(fake, record):
    zone = next(z for z in fake.state.zones.values() if z["name"] == "example.test")
    with fake.state.lock:
        return _handler(fake)._new_record(zone["id"], record)


def _handler(fake):
    """A handler bound to the server's state, to create objects the way the API would."""
    from harness.cloudflare.server import Handler

    handler = Handler.__new__(Handler)
    handler.server = fake.server
    return handler
