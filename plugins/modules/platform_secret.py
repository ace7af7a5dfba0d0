#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_secret
short_description: Create the platform's Secrets once and never rotate them by accident
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Converges many Secrets in one call. Every key has one source. C(generate) sets a random value only while the
    key is absent, so an existing value - generated earlier, restored from a backup or set by hand - survives
    byte for byte. C(value) keeps the key equal to a value from inventory. C(copy) keeps the key equal to a key of
    a Secret listed earlier, which is how C(argocd-secret)'s C(oidc.dex.clientSecret) always matches
    C(dex-secrets)' C(argocd-client-secret).
  - Reads one list of Secrets per namespace. A missing Secret is created; otherwise only the keys that need a
    value are merge-patched, leaving keys written by others (ArgoCD's C(server.secretkey)) alone. Missing
    namespaces are created. A converged run sends no write request.
  - Values never appear in the result, the diff or the logs. The module logs nothing on the host and masks every
    C(value) wherever the result would show it; the diff shows key names only. Names, namespaces and generators stay
    readable, so that every problem of a request is named.
options:
  secrets:
    description: The Secrets, in order (a C(copy) refers to a Secret listed before it).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Secret name.
        type: str
        required: true
      namespace:
        description: Namespace (created when missing).
        type: str
        required: true
      type:
        description: Secret type for a new Secret.
        type: str
        default: Opaque
      labels:
        description: Extra labels for a new Secret.
        type: dict
      keys:
        description:
          - >-
            Key name to source. A source is C({generate: hex|base64|alphanumeric, length: N}) (N random bytes for
            hex and base64, N characters for alphanumeric; 16 to 1024, default 32), C({value: ...}) or
            C({copy: {namespace: ..., name: ..., key: ...}}) (namespace defaults to this Secret's).
        type: dict
        required: true
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: Server-side dry runs; namespaces that do not exist yet are previewed locally.
  diff_mode:
    support: full
    description: Key names that would be set; values are always C(<redacted>).
"""

EXAMPLES = r"""
- name: Generate the authentication secrets once
  aphex.platform.platform_secret:
    kubeconfig: "{{ aphex_kubeconfig }}"
    secrets:
      - name: dex-secrets
        namespace: auth-system
        keys:
          argocd-client-secret: {generate: base64}
      - name: argocd-secret
        namespace: argocd
        keys:
          oidc.dex.clientSecret: {copy: {namespace: auth-system, name: dex-secrets, key: argocd-client-secret}}
      - name: cloudflare-api-token
        namespace: cert-manager
        keys:
          api-token: {value: "{{ aphex_cloudflare_api_token }}"}
"""

RETURN = r"""
objects:
  description: What happened to each namespace and Secret; for Secrets, per key C(generated), C(set), C(updated) or C(kept).
  returned: always
  type: list
  elements: dict
  sample: [{kind: Secret, namespace: auth-system, name: dex-secrets, action: unchanged, keys: {argocd-client-secret: kept}}]
requests:
  description: API requests sent, by verb.
  returned: always
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import converge
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

SECRET_SPEC = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "type": {"type": "str", "default": "Opaque"},
    "labels": {"type": "dict"},
    "keys": {"type": "dict", "required": True, "no_log": False},
}
# Not no_log as a whole: Ansible would then mask every string of the list - namespaces, names, generator names -
# wherever it appears, and the problems of a request would be unreadable. The module is no_log (nothing logged on
# the host) and masks each value source itself, before anything else (converge_secrets).
ARGUMENTS = {"secrets": {"type": "list", "elements": "dict", "required": True, "no_log": False, "options": SECRET_SPEC}}


def converge_secrets(run):
    for spec in run.params["secrets"]:
        for source in (spec.get("keys") or {}).values():
            if isinstance(source, dict) and "value" in source:
                run.hide(source["value"])
    converged = converge(lambda: run.api, run.params["secrets"], run.check_mode)
    result = {"changed": converged["changed"], "objects": converged["objects"], "requests": dict(run.api.requests)}
    if run.diff:
        result["diff"] = converged["diffs"]
    return result


def main():
    run_module(ARGUMENTS, converge_secrets, no_log=True)


if __name__ == "__main__":
    main()
