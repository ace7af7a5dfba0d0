# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig of the cluster (the C(aphex_cluster) host's C(aphex_kubeconfig)).
      - Falls back to E(K8S_AUTH_KUBECONFIG), then to the client's default (C(~/.kube/config)).
    type: path
  context:
    description:
      - Kubeconfig context to use; the current context when omitted.
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""
