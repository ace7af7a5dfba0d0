# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection options themselves are kubernetes.core's (doc fragment kubernetes.core.k8s_auth_options);
    # this adds what the collection's modules do beyond them.
    DOCUMENTATION = r"""
options:
  request_timeout:
    description:
      - Seconds to wait for the API server to accept a connection (at most 10) and for each answer. A server that
        does not answer fails the task within this bound, naming the step and the object.
    type: int
    default: 30
notes:
  - The connection options are kubernetes.core's, read the same way (M(kubernetes.core.k8s)); options left unset
    fall back to their E(K8S_AUTH_*) environment variables, then to the in-cluster service account, then to
    C(~/.kube/config). A kubeconfig that is not there fails naming the file(s) looked for.
  - Set them once for every module of the collection (and kubernetes.core's k8s modules) with
    C(module_defaults) and the action group C(group/aphex.platform.cluster).
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""
