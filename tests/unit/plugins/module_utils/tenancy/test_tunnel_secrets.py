"""The tunnel token reaches the organization's cloudflared through a Secret the organization module does not own
(owner kind Tunnel, so a converge of the organization never prunes it)."""
from __future__ import annotations

import base64

from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TOKEN_SECRET
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.tunnel_secrets import token_secret


def test_the_token_secret_is_the_tunnels_in_the_organizations_namespace():
    secret = token_secret("acme", "eyJ0b2tlbiI6IjEyMyJ9")
    assert secret["metadata"]["name"] == TOKEN_SECRET and secret["metadata"]["namespace"] == "org-acme"
    assert secret["metadata"]["labels"] == {"platform.aphex/managed-by": "aphex-platform",
                                            "platform.aphex/organization": "acme",
                                            "platform.aphex/owner-kind": "Tunnel", "platform.aphex/owner-name": "acme"}
    assert base64.b64decode(secret["data"]["token"]).decode() == "eyJ0b2tlbiI6IjEyMyJ9"
