#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pipeline
short_description: Onboard, update and remove tenant pipelines in one call
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Converges every pipeline of the inventory in one call. A pipeline gets its namespace (labelled with the
    pipeline, organization and repository); the ConfigMap C(pipeline-context); the Tekton Pipeline from the
    entry's YAML, with name and namespace forced; ServiceAccount, Role and RoleBinding C(pipeline-runner) (the
    runner may write ArgoCD Applications in its own namespace and nowhere else); ClusterRole and
    ClusterRoleBinding C(pipeline-runner-<name>); the AppProject C(<name>) in ArgoCD's namespace (only the
    repository as source, only Applications in the pipeline's namespace may use it (C(sourceNamespaces)), only
    that namespace as destination, no cluster-scoped kinds, and none of the kinds the isolation rests on
    (NetworkPolicy, ResourceQuota, LimitRange, RoleBinding)); the TriggerTemplate C(<name>-trigger-template)
    (the C(run-pipeline-v1) dispatcher) and the Trigger C(<name>-trigger) in the organization's namespace, whose
    CEL filter passes the repository's pushes (not branch deletions) and its pull requests opened, synchronized
    or reopened, and puts the commit to build in C(extensions.git_revision); a copy of the organization's
    webhook secret; tenant isolation
    (ResourceQuota C(tenant-quota), LimitRange C(tenant-limits), NetworkPolicy C(tenant-isolation)) unless
    turned off; and a C(RepoBinding) record with its status.
  - Reads once per kind by label selector and writes, with server-side apply (field manager
    C(aphex-platform)), only the objects that differ. A converged run sends no write request.
  - A pipeline with C(state=absent) is removed with everything it owns (its namespace with the Applications in
    it, its cluster-scoped objects, its AppProject) and the ArgoCD Applications in ArgoCD's namespace labelled
    C(platform.aphex/pipeline=<name>).
  - Run M(aphex.platform.organization) first, so that the pipeline's organization is onboarded.
extends_documentation_fragment:
  - aphex.platform.cluster
  - aphex.platform.tenancy
seealso:
  - module: aphex.platform.organization
"""

EXAMPLES = r"""
- name: Onboard the pipelines of the inventory
  aphex.platform.pipeline:
    kubeconfig: "{{ aphex_kubeconfig }}"
    organizations: "{{ aphex_organizations }}"
    pipelines:
      - name: acme-web
        organization: acme
        repo: acme-corp/web
        pipeline: "{{ lookup('ansible.builtin.file', 'pipelines/acme-web.yaml') }}"
        quota:
          limits.cpu: "16"
"""

RETURN = r"""
changed:
  description: Whether any object was created, updated or deleted.
  returned: always
  type: bool
objects:
  description:
    - Each object the pipelines own that was (or in check mode would be) created, updated or deleted, with its
      action; unchanged objects are only counted (RV(unchanged)).
  returned: always
  type: list
  elements: dict
  sample:
    - {action: created, kind: Namespace, name: acme-web}
unchanged:
  description: How many objects the pipelines own were already as desired.
  returned: always
  type: int
  sample: 23
pipelines:
  description: One entry per pipeline.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: acme-web, state: present, organization: acme, namespace: acme-web}
unlisted:
  description:
    - Names of the managed pipelines in the cluster that the inventory does not list. Without O(prune) they are
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
  sample: {list: 16, apply: 0, delete: 0}
"""

from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.module import TENANCY_ARGS, converge_tenants


def main():
    run_module(TENANCY_ARGS, lambda run: converge_tenants(run, "pipelines"))


if __name__ == "__main__":
    main()
