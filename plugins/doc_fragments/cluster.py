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
  request_timeout:
    description:
      - Seconds to wait for the API server to accept a connection (at most 10) and for each answer. A server that
        does not answer fails the task within this bound, naming the step and the object.
    type: int
    default: 30
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""
