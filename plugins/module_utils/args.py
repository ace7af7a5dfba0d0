# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the tenancy modules (documented in the doc fragments of the same names)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.aphex.platform.plugins.module_utils.k8s_api import DEFAULT_REQUEST_TIMEOUT
from ansible_collections.aphex.platform.plugins.module_utils.naming import ARGOCD_NAMESPACE, PLATFORM_NAMESPACE
from ansible_collections.aphex.platform.plugins.module_utils.tenants import CLOUDFLARED_IMAGE, DEFAULT_QUOTA, TenancySettings

CLUSTER_ARGS = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str"},
    "request_timeout": {"type": "int", "default": DEFAULT_REQUEST_TIMEOUT},
}

TENANCY_ARGS = {
    "organizations": {"type": "list", "elements": "dict", "default": []},
    "pipelines": {"type": "list", "elements": "dict", "default": []},
    "prune": {"type": "bool", "default": False},
    "prune_confirm": {"type": "int", "default": 0},
    "deletion_timeout": {"type": "int", "default": 120},
    "lock_holder": {"type": "str"},
    "validate_only": {"type": "bool", "default": False},
    "webhook_domain": {"type": "str", "default": ""},
    "platform_namespace": {"type": "str", "default": PLATFORM_NAMESPACE},
    "argocd_namespace": {"type": "str", "default": ARGOCD_NAMESPACE},
    "isolation": {"type": "bool", "default": True},
    "quota": {"type": "dict", "default": {}},
    "egress": {"type": "str", "default": "open", "choices": ["open", "restricted"]},
    "ingress_namespaces": {"type": "list", "elements": "str", "default": []},
    "tunnels": {"type": "bool", "default": False},
    "cloudflared_image": {"type": "str", "default": CLOUDFLARED_IMAGE},
    "cloudflared_replicas": {"type": "int", "default": 2},
}


def settings_from(params: dict) -> TenancySettings:
    return TenancySettings(
        webhook_domain=params["webhook_domain"],
        platform_namespace=params["platform_namespace"],
        argocd_namespace=params["argocd_namespace"],
        isolation=params["isolation"],
        quota={**DEFAULT_QUOTA, **{key: str(value) for key, value in params["quota"].items()}},
        ingress_namespaces=params["ingress_namespaces"],
        egress=params["egress"],
        tunnels=params["tunnels"],
        cloudflared_image=params["cloudflared_image"],
        cloudflared_replicas=params["cloudflared_replicas"],
    )
