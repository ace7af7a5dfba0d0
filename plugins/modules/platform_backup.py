#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_backup
short_description: Export what a cluster cannot regenerate, and put it back onto a fresh cluster
version_added: 0.2.0
author: Aphex platform engineering (@aphex-platform)
description:
  - The backup is every Secret labelled C(platform.aphex/managed-by=aphex-platform) - the generated platform
    secrets, each organization's webhook secret and tunnel token, those of kubectl tenants too - with the labels of
    their namespaces. It holds no timestamp, so an unchanged cluster exports the same document.
  - O(state=exported) returns the document in RV(backup). It holds every secret value, so register it only in a task
    with C(no_log), and keep it only encrypted (playbooks/backup.yml writes it as an Ansible Vault file).
  - O(state=restored) runs on a fresh cluster before bootstrap. It creates the missing namespaces, Secrets and keys
    and never overwrites. A key the cluster already holds with another value, an invalid document, or one taken from
    another cluster (unless O(allow_other_cluster)) fails the module before its first write, naming every problem.
    Restored keys are kept by M(aphex.platform.platform_secret) and by onboarding, so nothing is regenerated.
  - Values never appear in messages, the diff or the logs of a restore; the diff shows key names only.
options:
  state:
    description: Export the cluster's backup, or restore one.
    type: str
    choices: [exported, restored]
    default: exported
  cluster:
    description:
      - The cluster's name (the inventory host of C(aphex_cluster)). An export records it; a restore compares it.
    type: str
    required: true
  backup:
    description:
      - The document an export returned, for O(state=restored).
    type: dict
  allow_other_cluster:
    description: Restore a backup recorded for another cluster name.
    type: bool
    default: false
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: An export only reads. A restore sends server-side dry runs; namespaces that do not exist yet are
      previewed locally.
  diff_mode:
    support: full
    description: The Secrets and key names a restore would create; values are always C(<redacted>).
"""

EXAMPLES = r"""
- name: Export the backup (its result holds every secret value)
  aphex.platform.platform_backup:
    kubeconfig: "{{ aphex_kubeconfig }}"
    cluster: "{{ inventory_hostname }}"
  register: exported
  no_log: true

- name: Restore it onto a fresh cluster, before bootstrap
  aphex.platform.platform_backup:
    kubeconfig: "{{ aphex_kubeconfig }}"
    cluster: "{{ inventory_hostname }}"
    state: restored
    backup: "{{ exported.backup }}"
"""

RETURN = r"""
backup:
  description: The backup document (C(format), C(cluster), C(namespaces), C(secrets) with base64 data).
  returned: when O(state=exported)
  type: dict
contents:
  description: What the backup holds, without a value - C(namespace/name) and its keys.
  returned: always
  type: list
  elements: str
  sample: ["auth-system/dex-secrets: argocd-client-secret", "org-acme/github-webhook-secret: secret"]
objects:
  description: What a restore did to each namespace and Secret; for Secrets, per key C(restored) or C(kept).
  returned: when O(state=restored)
  type: list
  elements: dict
  sample: [{kind: Secret, namespace: org-acme, name: github-webhook-secret, action: created, keys: {secret: restored}}]
conflicts:
  description: The Secrets and keys the cluster holds with other values (a failed restore).
  returned: on a refused restore
  type: list
  elements: str
requests:
  description: API requests sent, by verb.
  returned: always
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.platform.backup import contents, export, redacted, restore, secret_values
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

# The document is not no_log as a whole: Ansible would then mask every string in it - namespace and Secret names
# included - wherever it appears, and a refused restore could not name its problems. The module is no_log (nothing
# logged on the host) and masks every value itself, before anything else.
ARGUMENTS = {
    "state": {"type": "str", "choices": ["exported", "restored"], "default": "exported"},
    "cluster": {"type": "str", "required": True},
    "backup": {"type": "dict", "no_log": False},
    "allow_other_cluster": {"type": "bool", "default": False},
}


def back_up_or_restore(run):
    params = run.params
    if params["state"] == "exported":
        document = export(run.api, params["cluster"])
        return {"changed": False, "backup": document, "contents": contents(document),
                "requests": dict(run.api.requests)}
    for value in secret_values(params["backup"]):
        run.hide(value)
    # Shown instead of the arguments as given (Ansible adds them to every result, verbose output prints them):
    # the document's names stay readable, its values do not appear at all.
    run.result["invocation"] = {"module_args": {**params, "backup": redacted(params["backup"])}}
    restored = restore(lambda: run.api, params["backup"] or {}, params["cluster"], params["allow_other_cluster"],
                       run.check_mode)
    result = {**run.result, "changed": restored["changed"], "objects": restored["objects"],
              "contents": contents(params["backup"]), "requests": dict(run.api.requests)}
    if run.diff:
        result["diff"] = restored["diffs"]
    return result


def main():
    run_module(ARGUMENTS, back_up_or_restore, no_log=True,
               required_if=[("state", "restored", ("backup",))])


if __name__ == "__main__":
    main()
