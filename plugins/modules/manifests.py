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
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
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

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.yaml import yaml_load_all

from ansible_collections.aphex.platform.plugins.module_utils.errors import failing_on
from ansible_collections.aphex.platform.plugins.module_utils.kube.args import CLUSTER_ARGS
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import connect
from ansible_collections.aphex.platform.plugins.module_utils.kube.manifests import (
    converge,
    wait_available,
    with_overlays,
)


def main():
    module = AnsibleModule(
        argument_spec={**CLUSTER_ARGS,
                       "component": {"type": "str", "required": True},
                       "src": {"type": "path"},
                       "definitions": {"type": "list", "elements": "dict"},
                       "overlays": {"type": "list", "elements": "dict", "default": []},
                       "namespace": {"type": "str"},
                       "prune": {"type": "bool", "default": False},
                       "wait_deployments": {"type": "list", "elements": "str", "default": []},
                       "wait_timeout": {"type": "int", "default": 300}},
        required_one_of=[("src", "definitions")], mutually_exclusive=[("src", "definitions")],
        supports_check_mode=True)
    params = module.params
    documents = params["definitions"]
    if params["src"]:
        try:
            with open(params["src"], encoding="utf-8") as handle:
                documents = list(yaml_load_all(handle))
        except OSError as error:
            module.fail_json(msg=f"cannot read {params['src']}: {error}")
    with failing_on(module):
        api = connect(module)
        documents = with_overlays(documents, params["overlays"])
        result = converge(api, documents, params["component"], params["namespace"], params["prune"],
                          module.check_mode)
        if params["wait_deployments"] and not module.check_mode:
            wait_available(api, params["wait_deployments"], params["namespace"], params["wait_timeout"])
    output = {"changed": result.changed, "objects": [r for r in result.reports() if r["action"] != "unchanged"],
              "unchanged": sum(1 for r in result.reports() if r["action"] == "unchanged"),
              "requests": dict(api.requests)}
    if module._diff:
        output["diff"] = result.diffs()
    module.exit_json(**output)


if __name__ == "__main__":
    main()
