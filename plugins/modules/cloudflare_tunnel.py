#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel
short_description: Give each organization a public webhook endpoint through a Cloudflare Tunnel
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - For each organization, converges a remotely-managed Cloudflare Tunnel named after O(name_pattern), its
    ingress configuration (C(<org>.<zone>) to the organization's EventListener, then a C(http_status:404)
    catch-all) and a proxied CNAME C(<org>.<zone>) to C(<tunnel id>.cfargotunnel.com) carrying an ownership
    comment. Uses the official C(cloudflare) Python SDK.
  - All organizations are handled in one call with one zone lookup, one tunnel listing and one DNS listing;
    a converged call sends no other request. The comment of the DNS record records the hash of the
    configuration last written, so configurations are read only with O(verify_config=true).
  - Adopts an existing tunnel of the same name; fails when more than one live tunnel has the name. Never
    replaces an A, AAAA or CNAME record it does not own unless O(force=true). If a step fails part-way,
    deletes only what this call created.
  - C(state=absent) deletes the DNS record, then empties the configuration, drops the connections and deletes
    the tunnel. Stop the organization's C(cloudflared) Deployment first, or connectors reconnect.
  - With a cluster (O(kubeconfig) or O(host) set as options), writes each tunnel's token into the Secret C(cloudflared-token) (key C(token)) of the
    organization's namespace when it is missing; the token is fetched only then and is never returned.
options:
  api_token:
    description:
      - Cloudflare API token with Account Cloudflare Tunnel Edit, Zone DNS Edit and Zone Read.
      - Falls back to E(CLOUDFLARE_API_TOKEN). E(CLOUDFLARE_EMAIL) and E(CLOUDFLARE_API_KEY) are ignored, since
        the SDK would let them override the token.
    type: str
    required: true
  account_id:
    description: Cloudflare account that owns the tunnels (never discovered, so account-owned tokens work).
    type: str
    required: true
  zone:
    description: DNS zone of the webhook hostnames, C(<org>.<zone>).
    type: str
    required: true
  zone_id:
    description: Id of O(zone); skips the zone lookup.
    type: str
  base_url:
    description: API base URL, for mirrors and tests; the SDK's default when omitted.
    type: str
  tunnels:
    description:
      - One entry per organization; M(aphex.platform.organization) returns them in this shape as its C(tunnels).
    type: list
    elements: dict
    required: true
    suboptions:
      organization:
        description: The organization's name, a DNS label.
        type: str
        required: true
      state:
        description: C(absent) deletes the organization's DNS record, tunnel configuration, connections and tunnel.
        type: str
        choices: [present, absent]
        default: present
  name_pattern:
    description: Tunnel name, with C({organization}) replaced.
    type: str
    default: webhooks-{organization}
  service_pattern:
    description:
      - Where the hostname is routed inside the cluster, with C({organization}) replaced.
      - When omitted, the organization's EventListener Service that M(aphex.platform.organization) creates,
        C(http://el-github-listener.org-<organization>.svc.cluster.local:8080).
    type: str
  force:
    description: Replace A, AAAA and CNAME records at the hostname that this module does not own.
    type: bool
    default: false
  verify_config:
    description: Read every tunnel's configuration and correct changes made outside this module.
    type: bool
    default: false
  timeout:
    description: Seconds per request.
    type: float
    default: 30
  max_retries:
    description: Retries of reads and updates on 429 and 5xx answers (creates are never replayed blindly).
    type: int
    default: 2
  lock_holder:
    description:
      - Identity of the run lock held by this run (M(aphex.platform.run_lock)). With a cluster, the module
        refuses to change anything, in Cloudflare or the cluster, unless the lock is still held under that identity.
    type: str
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: Only reads; reports what would be created, updated or deleted.
  diff_mode:
    support: full
    description: Shows the tunnel, configuration and DNS record before and after; never the token.
  platform:
    support: full
    description: Runs on the controller against the Cloudflare API.
    platforms: posix
requirements:
  - cloudflare >= 4.3 (Python SDK)
notes:
  - Without O(kubeconfig) or O(host) nothing is written to Kubernetes; their K8S_AUTH_* environment variables
    alone do not turn the cluster on here, as this module's main work is in Cloudflare.
seealso:
  - module: aphex.platform.organization
"""

EXAMPLES = r"""
- name: Public webhook endpoints for the organizations
  aphex.platform.cloudflare_tunnel:
    api_token: "{{ vault_cloudflare_api_token }}"
    account_id: 0123456789abcdef0123456789abcdef
    zone: example.com
    kubeconfig: "{{ aphex_kubeconfig }}"
    tunnels:
      - organization: acme
      - organization: former-customer
        state: absent
"""

RETURN = r"""
changed:
  description: Whether anything was created, updated or deleted, in Cloudflare or in the cluster.
  returned: always
  type: bool
tunnels:
  description: One entry per organization; C(actions) says what happened to the tunnel, its configuration,
    its DNS record and its token Secret.
  returned: always
  type: list
  elements: dict
  sample:
    - organization: acme
      state: present
      tunnel_name: webhooks-acme
      tunnel_id: 5f0c8c8e-6a4e-4a55-9a1c-3c2f1c8f7e42
      hostname: acme.example.com
      webhook_url: https://acme.example.com
      actions: {tunnel: unchanged, config: unchanged, dns: unchanged, token_secret: unchanged}
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnels import (
    CLOUDFLARE_IMPORT_ERROR, Tunnels, desired_tunnel)
from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import RunLock
from ansible_collections.aphex.platform.plugins.module_utils.naming import DNS_LABEL
from ansible_collections.aphex.platform.plugins.module_utils.runner import require, run_module
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.tunnel_secrets import store_tokens

ARGUMENTS = {
    "api_token": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, ["CLOUDFLARE_API_TOKEN"])},
    "account_id": {"type": "str", "required": True},
    "zone": {"type": "str", "required": True},
    "zone_id": {"type": "str"},
    "base_url": {"type": "str"},
    "tunnels": {"type": "list", "elements": "dict", "required": True, "options": {
        "organization": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"}}},
    "name_pattern": {"type": "str", "default": "webhooks-{organization}"},
    "service_pattern": {"type": "str"},
    "force": {"type": "bool", "default": False},
    "verify_config": {"type": "bool", "default": False},
    "timeout": {"type": "float", "default": 30},
    "max_retries": {"type": "int", "default": 2},
    "lock_holder": {"type": "str"},
}


def desired_tunnels(params: dict) -> list:
    """What each entry asks for; an organization name is also a host name and part of a tunnel's name."""
    problems = [f"tunnels[{index}].organization: '{entry['organization']}' is not a DNS label"
                for index, entry in enumerate(params["tunnels"]) if not DNS_LABEL.match(entry["organization"])]
    if problems:
        raise AphexError("invalid tunnels: " + "; ".join(problems), problems=problems)
    return [desired_tunnel(entry["organization"], entry["state"], params["zone"], params["name_pattern"],
                           params["service_pattern"]) for entry in params["tunnels"]]


def converge_tunnels(run):
    require("cloudflare", CLOUDFLARE_IMPORT_ERROR)
    params = run.params
    desired = desired_tunnels(params)
    # the cluster is optional: without one, no token Secret is stored and no run lock is checked
    api = run.api if params["kubeconfig"] or params["host"] else None
    if api is not None and params["lock_holder"] and not run.check_mode:
        RunLock(api, params["lock_holder"]).check()
    tunnels = Tunnels(params["api_token"], params["account_id"], params["base_url"], params["timeout"],
                      params["max_retries"], run.check_mode, params["force"], params["verify_config"])
    zone_id = params["zone_id"] or tunnels.zone_id(params["zone"].lower().rstrip("."))
    outcomes = tunnels.converge(desired, zone_id)
    if api is not None:
        store_tokens(api, tunnels, outcomes, run.check_mode)
    result = {"changed": any(o.changed for o in outcomes), "tunnels": [o.report() for o in outcomes]}
    if run.diff:
        result["diff"] = [{"before_header": o.tunnel_name, "after_header": o.tunnel_name, "before": o.before,
                           "after": o.after} for o in outcomes if o.changed]
    return result


def main():
    run_module(ARGUMENTS, converge_tunnels)


if __name__ == "__main__":
    main()
