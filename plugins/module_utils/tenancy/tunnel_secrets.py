# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hand each organization's tunnel token to its cloudflared Deployment through
a Secret, without the token ever passing through a module's output."""

from __future__ import annotations

import base64

from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    LABEL_MANAGED_BY,
    LABEL_ORGANIZATION,
    LABEL_OWNER_KIND,
    LABEL_OWNER_NAME,
    MANAGED_BY,
    OWNER_TUNNEL,
    org_namespace,
)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TOKEN_SECRET


def token_secret(org: str, token: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": TOKEN_SECRET, "namespace": org_namespace(org), "labels": {
                LABEL_MANAGED_BY: MANAGED_BY, LABEL_ORGANIZATION: org, LABEL_OWNER_KIND: OWNER_TUNNEL,
                LABEL_OWNER_NAME: org}},
            "data": {"token": base64.b64encode(token.encode()).decode()}}


def store_tokens(api, tunnels, outcomes, check_mode: bool) -> None:
    """Create the missing token Secrets; the token is fetched only for those."""
    present = {o["metadata"]["namespace"] for o in api.list("v1", "Secret", f"{LABEL_OWNER_KIND}={OWNER_TUNNEL}")}
    namespaces = {o["metadata"]["name"] for o in api.list("v1", "Namespace", f"{LABEL_MANAGED_BY}={MANAGED_BY}")}
    for outcome in outcomes:
        if outcome.state != "present":
            continue
        namespace = org_namespace(outcome.organization)
        if namespace in present:
            outcome.actions["token_secret"] = "unchanged"
        elif namespace not in namespaces and not check_mode:
            outcome.actions["token_secret"] = "pending"  # the organization is not onboarded yet
        else:
            outcome.actions["token_secret"] = "created"
            if not check_mode:
                api.apply(token_secret(outcome.organization, tunnels.token(outcome.tunnel_id)))
