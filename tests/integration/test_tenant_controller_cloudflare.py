"""Issue 27 item 5: an Organization created with kubectl gets its Cloudflare tunnel and DNS record from the tenant
controller (the local Cloudflare server, harness/cloudflare; the official SDK), the token from a Secret only the
controller reads, never printed; deleting the Organization removes them. On a control plane of the test's own: the
controller here has tunnels, the session's does not."""
from __future__ import annotations

import base64

from kubernetes import client, config, dynamic

from harness.cloudflare.server import FakeCloudflare
from harness.kube import get, wait_for
from harness.tenant_controller import TenantController

APHEX = "aphex.io/v1alpha1"
TOKEN = "cf-controller-token-7c1d"
ZONE = "hooks.selfservice.test"


def test_a_kubectl_organization_gets_its_tunnel_and_loses_it_with_the_organization(fresh_control_plane, tmp_path):
    plane = fresh_control_plane
    api_client = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    fake = FakeCloudflare(TOKEN, zones=(ZONE,)).start()
    controller = None
    try:
        client.CoreV1Api(api_client).create_namespaced_secret("platform-system", {
            "metadata": {"name": "aphex-tenant-controller-cloudflare"},
            "stringData": {"api-token": TOKEN, "account-id": fake.state.account_id, "zone": ZONE,
                           "base-url": fake.base_url}})
        controller = TenantController(plane, tmp_path / "controller", {}, drift_interval=5).start()
        organizations = dynamic.DynamicClient(api_client).resources.get(api_version=APHEX, kind="Organization")
        organizations.create(namespace="platform-system", body={
            "apiVersion": APHEX, "kind": "Organization", "metadata": {"name": "tunneled", "namespace": "platform-system"},
            "spec": {"displayName": "Tunneled", "adminUsers": ["t@tunneled.io"]}})

        def status():
            return (get(api_client, APHEX, "Organization", "tunneled", "platform-system") or {}).get("status") or {}
        assert wait_for(lambda: status().get("phase") == "Ready", timeout=120), (status(), controller.text()[-3000:])
        assert status()["webhookURL"] == f"https://tunneled.{ZONE}"
        assert "Cloudflare Tunnel webhooks-tunneled" in status()["message"]

        [tunnel] = [t for t in fake.state.tunnels.values() if t["name"] == "webhooks-tunneled" and not t["deleted_at"]]
        zone_id = next(z["id"] for z in fake.state.zones.values() if z["name"] == ZONE)
        [record] = [r for r in fake.state.records[zone_id].values() if r["name"] == f"tunneled.{ZONE}"]
        assert record["content"] == f"{tunnel['id']}.cfargotunnel.com"
        token = get(api_client, "v1", "Secret", "cloudflared-token", "org-tunneled")
        assert base64.b64decode(token["data"]["token"]).decode()  # cloudflared's, from the tunnel
        assert get(api_client, "apps/v1", "Deployment", "cloudflared", "org-tunneled")
        # the API token is in no status, no log
        assert TOKEN not in str(status()) and TOKEN not in controller.text()

        # at rest the drift timer leaves Cloudflare alone
        asked = len(fake.state.requests)
        assert not wait_for(lambda: len(fake.state.requests) > asked, timeout=12)

        organizations.delete(name="tunneled", namespace="platform-system")
        assert wait_for(lambda: get(api_client, APHEX, "Organization", "tunneled", "platform-system") is None,
                        timeout=120), controller.text()[-3000:]
        assert not [t for t in fake.state.tunnels.values() if t["name"] == "webhooks-tunneled" and not t["deleted_at"]]
        assert not [r for r in fake.state.records[zone_id].values() if r["name"] == f"tunneled.{ZONE}"]
    finally:
        if controller:
            controller.stop()
        fake.stop()
