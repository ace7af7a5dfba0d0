#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_teardown
short_description: Take the platform's apps down through ArgoCD, the last sync wave first
version_added: 0.2.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Removes C(platform-root) alone (its finalizer and automated sync taken off first, so that it neither cascades to
    every child at once nor creates them again), then the child Applications wave by wave from the last. Each child
    keeps ArgoCD's resources finalizer, so ArgoCD deletes what the app deployed (its post-delete hooks included)
    before the Application goes, and a wave starts only when the one after it is gone.
  - ArgoCD never deletes a CRD when its app goes (every object of the kind would go with it); once the apps are
    gone, the CRDs ArgoCD lists among the children's resources (their C(status.resources), read before anything is
    deleted) are deleted and waited for.
  - Fails naming the Applications left, with their sync and health state, when ArgoCD does not remove a wave in
    O(timeout) (its application controller must run).
  - Returns the namespaces the platform made - the children's (ArgoCD creates them and never removes them),
    ArgoCD's, those labelled C(platform.aphex/managed-by=aphex-platform) - for the caller to remove once the apps
    and ArgoCD are gone; C(default) and the C(kube-*) namespaces never.
  - Used by playbooks/teardown.yml in three steps (O(step)), with the inventory's tenants pruned after the first and
    ArgoCD removed (M(aphex.platform.manifests) with O(aphex.platform.manifests#module:state=absent)) before the
    last.
options:
  step:
    description:
      - V(kubectl-tenants) - the RepoBindings, then the Organizations, marked C(platform.aphex/driver=controller)
        (made with kubectl), deleted and waited for while the tenant controller still runs to remove what it made.
      - V(apps) - platform-root, the children by wave, then their CRDs (above); returns the namespaces to remove.
      - V(namespaces) - the namespaces of O(namespaces) deleted and waited for (never C(default) or a C(kube-*) one).
    type: str
    choices: [kubectl-tenants, apps, namespaces]
    default: apps
  namespaces:
    description: For O(step=namespaces), the namespaces to remove (what O(step=apps) returned).
    type: list
    elements: str
    default: []
  namespace:
    description: ArgoCD's namespace.
    type: str
    default: argocd
  timeout:
    description: Seconds to wait for each step (platform-root, then each wave) to be gone.
    type: int
    default: 600
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: Reads only; returns what would go, in order.
  diff_mode:
    support: none
    description: What goes is returned (and shown by check mode); there is nothing to compare.
"""

EXAMPLES = r"""
- name: Remove the tenants made with kubectl, through the tenant controller
  aphex.platform.platform_teardown:
    kubeconfig: "{{ aphex_kubeconfig }}"
    step: kubectl-tenants

- name: Take the platform's apps down, the last wave first
  aphex.platform.platform_teardown:
    kubeconfig: "{{ aphex_kubeconfig }}"
  register: teardown

- name: Remove the namespaces the platform made
  aphex.platform.platform_teardown:
    kubeconfig: "{{ aphex_kubeconfig }}"
    step: namespaces
    namespaces: "{{ teardown.namespaces }}"
"""

RETURN = r"""
tenants:
  description: The kubectl tenants removed (O(step=kubectl-tenants)).
  returned: when O(step=kubectl-tenants)
  type: list
  elements: str
root:
  description: Whether platform-root was there (and removed).
  returned: when O(step=apps)
  type: bool
waves:
  description: The child Applications by wave, in the order they are removed (the last wave first).
  returned: when O(step=apps)
  type: list
  elements: dict
  sample: [{wave: 30, applications: [ingress-routes]}, {wave: 20, applications: [certificates, pipeline-catalog]}]
crds:
  description: The CRDs the platform's apps deployed, removed after them.
  returned: when O(step=apps)
  type: list
  elements: str
namespaces:
  description:
    - O(step=apps) - the namespaces the platform made (the children's, ArgoCD's, the collection's own), system
      namespaces left out; O(step=namespaces) - those that were there and went.
  returned: when O(step=apps) or O(step=namespaces)
  type: list
  elements: str
requests:
  description: API requests sent, by verb.
  returned: always
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.platform.teardown import (
    remove_apps, remove_kubectl_tenants, remove_namespaces)
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {
    "step": {"type": "str", "choices": ["kubectl-tenants", "apps", "namespaces"], "default": "apps"},
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "namespace": {"type": "str", "default": "argocd"},
    "timeout": {"type": "int", "default": 600},
}


def take_down(run):
    params = run.params
    if params["step"] == "kubectl-tenants":
        removed = remove_kubectl_tenants(run.api, params["timeout"], run.check_mode)
    elif params["step"] == "namespaces":
        removed = remove_namespaces(run.api, params["namespaces"], params["timeout"], run.check_mode)
    else:
        removed = remove_apps(run.api, params["namespace"], params["timeout"], run.check_mode)
    return {**removed, "requests": dict(run.api.requests)}


def main():
    run_module(ARGUMENTS, take_down)


if __name__ == "__main__":
    main()
