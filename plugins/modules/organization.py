#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: organization
short_description: Onboard, update and remove platform organizations in one call
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Converges every organization of the inventory in one call. An organization gets the namespace
    C(org-<name>); the Secret C(github-webhook-secret) (key C(secret), 64 hex characters, generated once and
    kept, rotated only when the entry sets C(rotate_webhook_secret=true)); the External Secrets wiring
    (ServiceAccount, Role and RoleBinding C(eso-secrets-reader), ClusterSecretStore C(org-<name>-store));
    the listener identity (ServiceAccount C(eventlistener), ClusterRoleBinding C(eventlistener-<name>));
    the EventListener C(github-listener), which verifies GitHub signatures with the webhook secret, accepts
    only push and pull_request events and selects exactly the organization's pipeline namespaces; the
    TriggerBinding C(github-push-binding); one RoleBinding per admin user to the ClusterRole
    C(organization-admin); and an C(Organization) record (C(aphex.io/v1alpha1)) with its status.
  - Reads once per kind by label selector and writes, with server-side apply (field manager
    C(aphex-platform)), only the objects that differ. A converged run sends no write request.
  - An organization with C(state=absent) is removed with everything it owns, cluster-scoped
    objects included. It must have no pipelines left unless the entry sets C(cascade=true), which removes
    them too.
  - The Tekton Triggers, External Secrets and C(aphex.io) APIs must be served; otherwise the module fails
    before writing, naming the missing API and the platform app that provides it.
options:
  show_secrets:
    description:
      - Return each organization's webhook secret (base64 of the value GitHub needs) in RV(webhook_secrets),
        for setting up the GitHub webhooks. Off by default so that secrets never reach the output.
    type: bool
    default: false
extends_documentation_fragment:
  - aphex.platform.cluster
  - aphex.platform.tenancy
notes:
  - Pass the same O(pipelines) as to M(aphex.platform.pipeline); the EventListener lists their namespaces.
seealso:
  - module: aphex.platform.pipeline
"""

EXAMPLES = r"""
- name: Onboard the organizations of the inventory
  aphex.platform.organization:
    kubeconfig: "{{ aphex_kubeconfig }}"
    organizations:
      - name: acme
        display_name: ACME Corporation
        admin_users: [admin@acme-corp.com]
    pipelines: "{{ aphex_pipelines | default([]) }}"
    webhook_domain: example.com

- name: Remove an organization and its pipelines
  aphex.platform.organization:
    kubeconfig: "{{ aphex_kubeconfig }}"
    organizations:
      - name: acme
        state: absent
        cascade: true
"""

RETURN = r"""
changed:
  description: Whether any object was created, updated or deleted.
  returned: always
  type: bool
objects:
  description:
    - Each object the organizations own that was (or in check mode would be) created, updated or deleted, with its
      action; unchanged objects are only counted (RV(unchanged)).
  returned: always
  type: list
  elements: dict
  sample:
    - {action: created, kind: Namespace, name: org-acme}
unchanged:
  description: How many objects the organizations own were already as desired.
  returned: always
  type: int
  sample: 23
organizations:
  description: One entry per organization, with its namespace and public webhook URL.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: acme, state: present, namespace: org-acme, webhook_url: "https://acme.example.com"}
tunnels:
  description:
    - The organizations as M(aphex.platform.cloudflare_tunnel) takes them in its O(aphex.platform.cloudflare_tunnel#module:tunnels)
      option, removed ones included (their tunnels go too).
  returned: unless O(validate_only)
  type: list
  elements: dict
  sample:
    - {organization: acme, state: present}
unlisted:
  description:
    - Names of the managed organizations in the cluster that the inventory does not list. Without O(prune) they are
      left exactly as they are, and the module warns; with O(prune) they are removed and this is empty.
  returned: always
  type: list
  elements: str
problems:
  description: Every problem of the inventory, each naming the tenant and the field (also in the message).
  returned: when the inventory is invalid
  type: list
  elements: str
  sample: ["aphex_organizations[acme].cascade: 'if needed' is not a boolean (true/false, yes/no, on/off, 1/0)"]
requests:
  description: How many list, apply and delete requests the call sent (dry runs included).
  returned: always
  type: dict
  sample: {list: 17, apply: 0, delete: 0}
webhook_secrets:
  description: Organization name to its webhook secret, base64-encoded as stored in the Secret.
  returned: when O(show_secrets=true)
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.module import TENANCY_ARGS, converge_tenants


def main():
    run_module({**TENANCY_ARGS, **{"show_secrets": {"type": "bool", "default": False}}}, lambda run: converge_tenants(run, "organizations"))


if __name__ == "__main__":
    main()
