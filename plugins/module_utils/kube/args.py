# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every module of the collection reaches the cluster (documented in the doc fragment `cluster`)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.aphex.platform.plugins.module_utils.kube.client import DEFAULT_REQUEST_TIMEOUT

CLUSTER_ARGS = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str"},
    "request_timeout": {"type": "int", "default": DEFAULT_REQUEST_TIMEOUT},
}
