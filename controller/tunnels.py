# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloudflare tunnels for the organizations the controller onboards, with the code the cloudflare_tunnel module runs
(module_utils/cloudflare/tunnels.py for the tunnel and its DNS record, tenancy/tunnel_secrets.py for the token
Secret cloudflared reads). The controller's Cloudflare credentials are the Secret
platform-system/aphex-tenant-controller-cloudflare (keys api-token, account-id, zone; base-url for another API
endpoint); without it, organizations get no tunnel and no public webhook URL, as with onboard.yml."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError

SECRET = "aphex-tenant-controller-cloudflare"
KEYS = ("api-token", "account-id", "zone")


@dataclass(frozen=True)
class CloudflareAccess:
    api_token: str = field(repr=False)
    account_id: str
    zone: str
    base_url: str | None = None


def cloudflare_access(api, namespace: str) -> CloudflareAccess | None:
    """The credentials of the Secret, or None when there is none; a Secret missing a key is refused naming it."""
    secret = api.get("v1", "Secret", SECRET, namespace)
    if secret is None:
        return None
    data = {key: base64.b64decode(value).decode().strip() for key, value in (secret.get("data") or {}).items()}
    missing = [key for key in KEYS if not data.get(key)]
    if missing:
        raise AphexError(f"Secret {namespace}/{SECRET}: {', '.join(missing)} missing (it needs {', '.join(KEYS)})")
    return CloudflareAccess(data["api-token"], data["account-id"], data["zone"].lower().rstrip("."),
                            data.get("base-url") or None)


def tunnel_converger(api, access: CloudflareAccess):
    """converge(organization, state): the organization's tunnel, its DNS record and, when present, its token
    Secret - what the cloudflare_tunnel module does for onboard.yml, for one organization."""
    from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnels import Tunnels, desired_tunnel
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.tunnel_secrets import store_tokens

    def converge(organization: str, state: str) -> None:
        tunnels = Tunnels(access.api_token, access.account_id, access.base_url)
        outcomes = tunnels.converge([desired_tunnel(organization, state, access.zone)], tunnels.zone_id(access.zone))
        if state == "present":
            store_tokens(api, tunnels, outcomes, False)
    return converge
