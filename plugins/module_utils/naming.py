# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names, labels, API versions and limits: one place for each rule. The lowest layer: imports nothing of the
collection."""

from __future__ import annotations

import re

FIELD_MANAGER = "aphex-platform"
MANAGED_BY = "aphex-platform"

LABEL_MANAGED_BY = "platform.aphex/managed-by"
LABEL_ORGANIZATION = "platform.aphex/organization"
LABEL_PIPELINE = "platform.aphex/pipeline"
LABEL_REPO = "platform.aphex/repo"
LABEL_OWNER_KIND = "platform.aphex/owner-kind"
LABEL_OWNER_NAME = "platform.aphex/owner-name"
LABEL_TEMPLATE_VERSION = "platform.aphex/template-version"
# Which driver owns a tenant (docs/architecture.md, "Two drivers"): absent on everything the inventory's onboarding
# writes, DRIVER_CONTROLLER on everything the in-cluster tenant controller writes for an Organization or RepoBinding
# created with kubectl - and on those objects themselves. Neither driver changes or prunes what the other owns.
LABEL_DRIVER = "platform.aphex/driver"
DRIVER_INVENTORY = "inventory"
DRIVER_CONTROLLER = "controller"
ANNOTATION_APPLIED_HASH = "platform.aphex/applied-hash"
# The DNS name under which a pipeline's Ingresses and routes may claim hosts (on its Namespace; the admission policy
# aphex-tenant-hosts reads it).
ANNOTATION_INGRESS_DOMAIN = "platform.aphex/ingress-domain"
# Kubernetes' Pod Security Admission labels (pod-security.kubernetes.io/<mode> and <mode>-version).
POD_SECURITY = "pod-security.kubernetes.io"
# Labels of the platform layer: the component a manifest set belongs to, the ArgoCD wave of a platform app, the
# prefix of the GPU labels K3s nodes carry.
LABEL_COMPONENT = "aphex.io/component"
LABEL_WAVE = "aphex.io/wave"
GPU_LABEL_PREFIX = "aphex.io/gpu"

# API versions the collection writes.
RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"{RBAC}/v1"
TEKTON_V1 = "tekton.dev/v1"
TRIGGERS_V1BETA1 = "triggers.tekton.dev/v1beta1"
EXTERNAL_SECRETS_V1 = "external-secrets.io/v1"
ARGOCD_V1ALPHA1 = "argoproj.io/v1alpha1"
APHEX_V1ALPHA1 = "aphex.io/v1alpha1"
APPLICATION = (ARGOCD_V1ALPHA1, "Application")
# The platform app that serves each API group the collection writes to (named when the cluster lacks the group).
API_PROVIDERS = {
    "aphex.io": "platform-crds",
    "tekton.dev": "tekton-pipelines",
    "triggers.tekton.dev": "tekton-triggers",
    "external-secrets.io": "external-secrets",
    "argoproj.io": "argocd",
}

OWNER_ORGANIZATION = "Organization"
OWNER_PIPELINE = "Pipeline"
OWNER_TUNNEL = "Tunnel"  # the tunnel token Secret, written by the cloudflare_tunnel module

# The Linux distributions the host roles support, by the version Ansible's facts report (distribution_version on
# Ubuntu, distribution_major_version on Debian), with the codename the roles' Galaxy metadata lists.
SUPPORTED_DISTRIBUTIONS = {"Debian": {"12": "bookworm"}, "Ubuntu": {"22.04": "jammy", "24.04": "noble"}}

PLATFORM_NAMESPACE = "platform-system"
ARGOCD_NAMESPACE = "argocd"

ORG_NAME_MAX = 59       # org-<name> must stay a 63-character namespace name
PIPELINE_NAME_MAX = 61  # <name>-<suffix> AppProject destinations need room for a suffix

# Namespaces of the platform itself: a tenant may neither be named like one
# nor start with one followed by a dash.
RESERVED_NAMES = (
    "kube-system", "kube-public", "kube-node-lease", "default", "argocd", "platform-system",
    "auth-system", "tekton-pipelines", "tekton-pipelines-resolvers", "pipeline-system",
    "pipeline-catalog", "cert-manager", "external-secrets", "ingress-nginx", "traefik",
    "gpu-operator", "external-dns",
)

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)?$")


def org_namespace(org: str) -> str:
    return f"org-{org}"


# The organization's EventListener; Tekton Triggers serves it as the Service el-<name>, port 8080.
EVENTLISTENER_NAME = "github-listener"
EVENTLISTENER_PORT = 8080


def eventlistener_url(org: str) -> str:
    """Where the organization's webhooks are delivered inside the cluster (the tunnel's ingress target)."""
    return f"http://el-{EVENTLISTENER_NAME}.{org_namespace(org)}.svc.cluster.local:{EVENTLISTENER_PORT}"


def org_store_name(org: str) -> str:
    return f"org-{org}-store"


def eventlistener_binding_name(org: str) -> str:
    return f"eventlistener-{org}"


# Who signed in through the platform's Dex, as the kube-apiserver names them: the ID token's email and groups, each
# behind this prefix (module_utils/platform/kube_sso.py), so that no SSO user or group can be taken for a
# ServiceAccount (system:serviceaccount:...), a node or a system group (system:masters, system:authenticated...).
SSO_PREFIX = "oidc:"


def sso_user(email: str) -> str:
    """The Kubernetes user name of the person signed in with EMAIL."""
    return SSO_PREFIX + email


def sso_group(group: str) -> str:
    """The Kubernetes group name of an SSO group (a group of the identity provider, e.g. platform-admins)."""
    return SSO_PREFIX + group


def admin_binding_name(user: str) -> str:
    return f"organization-admin-{user}"


def repo_label_value(repo: str) -> str:
    """owner/name as a label value: 63 characters at most, alphanumeric at both ends."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", repo.replace("/", "-"))[:63]
    return value.strip("_.-") or "repo"


def reserved_conflict(name: str) -> str | None:
    """The reserved name that `name` equals or extends, if any."""
    for reserved in RESERVED_NAMES:
        if name == reserved or name.startswith(reserved + "-"):
            return reserved
    return None


def tenant_labels(org: str, pipeline: str | None = None) -> dict:
    labels = {LABEL_MANAGED_BY: MANAGED_BY, LABEL_ORGANIZATION: org}
    if pipeline is None:
        labels.update({LABEL_OWNER_KIND: OWNER_ORGANIZATION, LABEL_OWNER_NAME: org})
    else:
        labels.update({LABEL_PIPELINE: pipeline, LABEL_OWNER_KIND: OWNER_PIPELINE, LABEL_OWNER_NAME: pipeline})
    return labels
