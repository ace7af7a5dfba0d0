"""The controller's Cloudflare credentials, read from their Secret before it connects anywhere else. The tunnels
themselves, against the local Cloudflare server: tests/integration/test_tenant_controller_cloudflare.py."""
from __future__ import annotations

import base64

import pytest

from ansible_collections.aphex.platform.controller.tunnels import SECRET, cloudflare_access
from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError


class SecretApi:
    def __init__(self, data=None):
        self.data = data

    def get(self, api_version, kind, name, namespace):
        assert (api_version, kind, name, namespace) == ("v1", "Secret", SECRET, "platform-system")
        if self.data is None:
            return None
        return {"data": {key: base64.b64encode(value.encode()).decode() for key, value in self.data.items()}}


def test_no_secret_no_tunnels():
    assert cloudflare_access(SecretApi(), "platform-system") is None


def test_the_credentials_are_read_and_the_token_never_shown():
    access = cloudflare_access(SecretApi({"api-token": "t0k3n\n", "account-id": "acc", "zone": "Hooks.Example."}),
                               "platform-system")
    assert (access.api_token, access.account_id, access.zone, access.base_url) == ("t0k3n", "acc", "hooks.example",
                                                                                   None)
    assert "t0k3n" not in repr(access)


def test_a_secret_missing_a_key_is_refused_naming_it():
    with pytest.raises(AphexError, match="account-id, zone missing"):
        cloudflare_access(SecretApi({"api-token": "t"}), "platform-system")
