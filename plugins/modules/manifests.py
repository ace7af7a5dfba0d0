#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: manifests
short_description: Apply a set of manifests as one component, writing only what differs
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Applies every object of a multi-document manifest (for example ArgoCD's C(install.yaml)) or a list of
    definitions with server-side apply (field manager C(aphex-platform)), labelled C(aphex.io/component=<component>).
  - Reads once per kind by that label and writes only objects that are missing, differ in a desired field or whose
    desired manifest changed (a hash annotation catches removed fields). A converged run sends no write request;
    C(kubernetes.core.k8s) with server-side apply re-sends every object.
  - CustomResourceDefinitions are applied first and waited for (Established) before the objects that use them.
options:
  component:
    description: Name of the set; selects the live objects on later runs.
    type: str
    required: true
  src:
    description: Path of a multi-document YAML file on the host running the module.
    type: path
  definitions:
    description: The objects, when O(src) is not used.
    type: list
    elements: dict
  overlays:
    description:
      - Partial objects (C(kind), C(metadata.name) and the fields to set) merged into the document of the same
        kind and name, for example C(data) of ArgoCD's C(argocd-cm); an overlay without a match is added as an object.
    type: list
    elements: dict
    default: []
  namespace:
    description: Namespace for namespaced objects that name none.
    type: str
  prune:
    description: Delete objects of the component that are no longer in the set.
    type: bool
    default: false
  wait_deployments:
    description: Deployments (in O(namespace)) that must become Available after the apply; none by default.
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for them.
    type: int
    default: 300
  state:
    description:
      - V(absent) deletes every live object labelled with the component, of the kinds the set holds (the set's
        CRDs last, after every other kind); the set itself is read for its kinds only. Check mode lists them.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: Server-side dry runs; objects in namespaces that do not exist yet are previewed locally.
  diff_mode:
    support: full
    description: The desired fields before and after; Secret values redacted.
"""

EXAMPLES = r"""
- name: Install ArgoCD from a controller-local manifest
  aphex.platform.manifests:
    kubeconfig: "{{ aphex_kubeconfig }}"
    component: argocd
    namespace: argocd
    src: /srv/mirror/argocd/v3.6.1/install.yaml
    wait_deployments: [argocd-server, argocd-repo-server, argocd-applicationset-controller]
"""

RETURN = r"""
objects:
  description: Each object with its action (created, updated, unchanged, deleted).
  returned: always
  type: list
  elements: dict
unchanged:
  description: How many objects were already as desired.
  returned: always
  type: int
requests:
  description: API requests sent, by verb.
  returned: always
  type: dict
"""

from ansible.module_utils.common.yaml import yaml_load_all

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.manifests import converge, remove, wait_available, with_overlays
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {
    "component": {"type": "str", "required": True},
    "src": {"type": "path"},
    "definitions": {"type": "list", "elements": "dict"},
    "overlays": {"type": "list", "elements": "dict", "default": []},
    "namespace": {"type": "str"},
    "prune": {"type": "bool", "default": False},
    "wait_deployments": {"type": "list", "elements": "str", "default": []},
    "wait_timeout": {"type": "int", "default": 300},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def read_documents(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as handle:
            return list(yaml_load_all(handle))
    except OSError as error:
        raise AphexError(f"cannot read {path}: {error}") from error


def converge_component(run):
    params = run.params
    documents = read_documents(params["src"]) if params["src"] else params["definitions"]
    documents = with_overlays(documents, params["overlays"])
    if params["state"] == "absent":
        removed = remove(run.api, documents, params["component"], run.check_mode)
        result = {"changed": removed.changed, "objects": [r for r in removed.reports() if r["action"] != "unchanged"],
                  "unchanged": 0, "requests": dict(run.api.requests)}
        if run.diff:
            result["diff"] = removed.diffs()
        return result
    converged = converge(run.api, documents, params["component"], params["namespace"], params["prune"],
                         run.check_mode)
    if params["wait_deployments"] and not run.check_mode:
        wait_available(run.api, params["wait_deployments"], params["namespace"], params["wait_timeout"])
    reports = converged.reports()
    result = {"changed": converged.changed, "objects": [r for r in reports if r["action"] != "unchanged"],
              "unchanged": sum(1 for r in reports if r["action"] == "unchanged"), "requests": dict(run.api.requests)}
    if run.diff:
        result["diff"] = converged.diffs()
    return result


def main():
    run_module(ARGUMENTS, converge_component, required_one_of=[("src", "definitions")],
               mutually_exclusive=[("src", "definitions")])


if __name__ == "__main__":
    main()
