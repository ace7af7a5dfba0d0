# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every module of the collection reaches the cluster: kubernetes.core's own connection options (with the same
K8S_AUTH_* environment fallbacks) plus the collection's bounded request timeout, all documented in the doc fragment
`aphex.platform.cluster`."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

from ansible_collections.aphex.platform.plugins.module_utils.kube.transport import DEFAULT_REQUEST_TIMEOUT

CLUSTER_ARGS = {
    **AUTH_ARG_SPEC,
    "request_timeout": {"type": "int", "default": DEFAULT_REQUEST_TIMEOUT},
}


def connection_options(params: dict) -> dict:
    """The module's connection options (kubernetes.core's names), as ClusterApi takes them."""
    return {name: params.get(name) for name in AUTH_ARG_SPEC}
