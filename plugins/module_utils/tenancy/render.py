# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects an organization and a pipeline own, rendered from inventory.

Pure functions: no API access, so every field is unit-testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    APHEX_V1ALPHA1,
    APPLICATION,
    ARGOCD_NAMESPACE,
    ARGOCD_V1ALPHA1,
    EXTERNAL_SECRETS_V1,
    RBAC,
    RBAC_V1,
    TEKTON_V1,
    TRIGGERS_V1BETA1,
    LABEL_ORGANIZATION,
    LABEL_REPO,
    ANNOTATION_INGRESS_DOMAIN,
    EVENTLISTENER_NAME,
    LABEL_TEMPLATE_VERSION,
    POD_SECURITY,
    PLATFORM_NAMESPACE,
    admin_binding_name,
    sso_user,
    eventlistener_binding_name,
    org_namespace,
    org_store_name,
    repo_label_value,
    tenant_labels,
)

WEBHOOK_SECRET_NAME = "github-webhook-secret"
# The organization's own secrets, which its pipelines' ExternalSecrets pull through the organization's
# ClusterSecretStore. Made empty at onboarding and never written again by the collection: its organization admins
# fill it in (the ClusterRole organization-admin lets them update this Secret by name, and create none - a Secret
# they could create could be a token of one of the namespace's ServiceAccounts).
ORG_SECRETS_NAME = "org-secrets"
TRIGGER_BINDING_NAME = "github-event-binding"
# GitHub events a pipeline runs on: pushes that leave a commit behind (not branch deletions) and pull requests
# whose head commit is new. Each event keeps its commit in another field, so the Trigger's CEL interceptor puts the
# one to build into extensions.git_revision and the binding reads that.
EVENT_TYPES = ("push", "pull_request")
PULL_REQUEST_ACTIONS = ("opened", "synchronize", "reopened")
REVISION_EXPRESSION = "has(body.pull_request) ? body.pull_request.head.sha : body.after"
# Whose pull requests run a pipeline (its `pull_requests` setting): by the author's relation to the repository
# that GitHub reports (author_association) - `trusted` its owners, organization members and collaborators, `all`
# anyone (a fork's author included), `none` nobody; an empty tuple puts no condition on the author.
PULL_REQUEST_AUTHORS = {"trusted": ("OWNER", "MEMBER", "COLLABORATOR"), "all": (), "none": None}
PULL_REQUESTS_DEFAULT = "trusted"
DISPATCHER_TEMPLATE = "run-pipeline-v1"
PROJECT_ROLE_ORGANIZATION_ADMIN = "organization-admin"
IN_CLUSTER = "https://kubernetes.default.svc"

# The kinds each renderer produces: the converge reads exactly these (a kind missing here would be re-applied on
# every run, and one never rendered would be read for nothing; tests/unit/plugins/module_utils/tenancy/test_render.py checks both), and
# APPLY_ORDER is the order they are written in, what an object refers to first.
ORGANIZATION_KINDS = (
    ("v1", "Namespace"), ("v1", "Secret"), ("v1", "ServiceAccount"), (RBAC_V1, "Role"), (RBAC_V1, "RoleBinding"),
    (RBAC_V1, "ClusterRoleBinding"), (EXTERNAL_SECRETS_V1, "ClusterSecretStore"),
    (TRIGGERS_V1BETA1, "TriggerBinding"), (TRIGGERS_V1BETA1, "EventListener"), ("apps/v1", "Deployment"),
    (APHEX_V1ALPHA1, "Organization"),
)
PIPELINE_KINDS = (
    ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), (RBAC_V1, "Role"),
    (RBAC_V1, "RoleBinding"), (RBAC_V1, "ClusterRole"), (RBAC_V1, "ClusterRoleBinding"), ("v1", "ResourceQuota"),
    ("v1", "LimitRange"), ("networking.k8s.io/v1", "NetworkPolicy"), (TEKTON_V1, "Pipeline"),
    (TRIGGERS_V1BETA1, "TriggerTemplate"), (TRIGGERS_V1BETA1, "Trigger"), (ARGOCD_V1ALPHA1, "AppProject"),
    (APHEX_V1ALPHA1, "RepoBinding"),
)
# Built-in kinds go first in the order kube/reconcile.py knows; then these, the records of a tenant last, so that a
# record exists only once what it describes does. Applications are never written here, only deleted (in reverse).
APPLY_ORDER = (
    (EXTERNAL_SECRETS_V1, "ClusterSecretStore"), (TEKTON_V1, "Pipeline"),
    (TRIGGERS_V1BETA1, "TriggerBinding"), (TRIGGERS_V1BETA1, "TriggerTemplate"), (TRIGGERS_V1BETA1, "Trigger"),
    (TRIGGERS_V1BETA1, "EventListener"), (ARGOCD_V1ALPHA1, "AppProject"), APPLICATION,
    (APHEX_V1ALPHA1, "Organization"), (APHEX_V1ALPHA1, "RepoBinding"),
)

DEFAULT_QUOTA = {"requests.cpu": "4", "limits.cpu": "8", "requests.memory": "8Gi", "limits.memory": "16Gi",
                 "persistentvolumeclaims": "5", "pods": "20"}
DEFAULT_LIMITS = {"default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                  "max": {"cpu": "2", "memory": "4Gi"}, "min": {"cpu": "50m", "memory": "64Mi"}}
PIPELINE_RUNNER_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "create", "update", "delete", "watch"]},
    {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "create", "update", "delete"]},
    {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns", "taskruns"], "verbs": ["get", "list", "create", "watch"]},
    {"apiGroups": ["triggers.tekton.dev"],
     "resources": ["eventlisteners", "triggers", "triggerbindings", "triggertemplates", "interceptors"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list"]},
    # Deploying goes through ArgoCD Applications in the pipeline's own namespace, which ArgoCD accepts only for the
    # pipeline's own AppProject (its sourceNamespaces); the admission policy aphex-tenant-applications checks it too.
    {"apiGroups": ["argoproj.io"], "resources": ["applications"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
# Pod Security Admission, enforced by the API server on every pod of a tenant namespace whoever creates it - the
# tenant, Tekton's controller for a TaskRun, the ReplicaSet controller for what ArgoCD deployed: no privileged
# container, no host namespaces, ports or paths, no added capability beyond the baseline's. Pipeline namespaces
# enforce `baseline`, the strictest the pipeline catalog runs under: buildah-build-v1 builds images as a non-root
# user that needs SETUID and SETGID to map its user namespace, which `restricted` refuses; every other catalog task
# would run under `restricted`, which is warned about and audited. An organization namespace runs the platform's
# pods only (its EventListener, which Tekton Triggers starts restricted-compatible, and cloudflared) and enforces
# `restricted`.
PIPELINE_POD_SECURITY = "baseline"
ORGANIZATION_POD_SECURITY = "restricted"
# Where the tenants' repositories live unless the platform names its own Git server (a GitHub Enterprise Server).
GITHUB = "https://github.com"
CLOUDFLARED_IMAGE = "docker.io/cloudflare/cloudflared:2025.11.1"
TOKEN_SECRET = "cloudflared-token"


@dataclass
class TenancySettings:
    """Platform-wide choices that shape every tenant."""

    webhook_domain: str = ""
    platform_namespace: str = PLATFORM_NAMESPACE
    argocd_namespace: str = ARGOCD_NAMESPACE
    isolation: bool = True
    quota: dict = field(default_factory=lambda: dict(DEFAULT_QUOTA))
    limits: dict = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # Namespaces whose pods may reach tenant pods besides the organization's own: the ingress controllers of the
    # deployed catalog (the tenants role derives them from it).
    ingress_namespaces: list = field(default_factory=list)
    egress: str = "open"  # open | restricted
    tunnels: bool = False
    cloudflared_image: str = CLOUDFLARED_IMAGE
    cloudflared_replicas: int = 2
    # Each pipeline may route <pipeline>.<apps_domain> and its subdomains (Ingress hosts, HTTPRoute hostnames);
    # empty: no host at all.
    apps_domain: str = ""
    # ArgoCD deploys a pipeline from <git_server_url>/<repo> only (its AppProject's sourceRepos).
    git_server_url: str = GITHUB

    def webhook_url(self, org: str) -> str:
        return f"https://{org}.{self.webhook_domain}" if self.webhook_domain else ""


def _meta(name: str, labels: dict, namespace: str | None = None) -> dict:
    metadata = {"name": name, "labels": dict(labels)}
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def pod_security_labels(level: str) -> dict:
    """Enforce `level`; warn about and audit what `restricted` would refuse."""
    modes = {"enforce": level, "warn": "restricted", "audit": "restricted"}
    return {label: value for mode, enforced in modes.items()
            for label, value in ((f"{POD_SECURITY}/{mode}", enforced), (f"{POD_SECURITY}/{mode}-version", "latest"))}


def ingress_domain(pipeline: str, settings: TenancySettings) -> str:
    """The DNS name under which the pipeline's routes may claim hosts; empty when the platform gives none."""
    return f"{pipeline}.{settings.apps_domain}" if settings.apps_domain else ""


def _object(api_version: str, kind: str, name: str, labels: dict, namespace: str | None = None, **body) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": _meta(name, labels, namespace), **body}


def _namespace(name: str, labels: dict, annotations: dict) -> dict:
    namespace = _object("v1", "Namespace", name, labels)
    namespace["metadata"]["annotations"] = annotations
    return namespace


def _service_account_subject(name: str, namespace: str) -> dict:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def _binding(kind: str, name: str, labels: dict, role_kind: str, role: str, subjects: list, namespace=None) -> dict:
    return _object(RBAC_V1, kind, name, labels, namespace,
                   roleRef={"apiGroup": RBAC, "kind": role_kind, "name": role}, subjects=subjects)


def render_organization(org: dict, pipeline_namespaces: list, webhook_secret_b64: str, settings: TenancySettings) -> list:
    """Everything organization `org` owns; pipeline_namespaces are its present pipelines."""
    name = org["name"]
    namespace = org_namespace(name)
    labels = tenant_labels(name)
    objects = [
        _object("v1", "Namespace", namespace, {**labels, **pod_security_labels(ORGANIZATION_POD_SECURITY)}),
        _object("v1", "Secret", WEBHOOK_SECRET_NAME, labels, namespace, type="Opaque",
                data={"secret": webhook_secret_b64}),
        # No data: what the organization admins put in it is theirs (a re-run compares the labels only).
        _object("v1", "Secret", ORG_SECRETS_NAME, labels, namespace, type="Opaque"),
        _object("v1", "ServiceAccount", "eso-secrets-reader", labels, namespace),
        _object(RBAC_V1, "Role", "eso-secrets-reader", labels, namespace,
                rules=[{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [ORG_SECRETS_NAME], "verbs": ["get"]}]),
        _binding("RoleBinding", "eso-secrets-reader", labels, "Role", "eso-secrets-reader",
                 [_service_account_subject("eso-secrets-reader", namespace)], namespace),
        _object(EXTERNAL_SECRETS_V1, "ClusterSecretStore", org_store_name(name), labels, spec={
            "conditions": [{"namespaceSelector": {"matchLabels": {LABEL_ORGANIZATION: name}}}],
            "provider": {"kubernetes": {
                "remoteNamespace": namespace,
                "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt",
                                          "namespace": namespace}},
                "auth": {"serviceAccount": {"name": "eso-secrets-reader", "namespace": namespace}},
            }},
        }),
        _object("v1", "ServiceAccount", "eventlistener", labels, namespace),
        _binding("ClusterRoleBinding", eventlistener_binding_name(name), labels, "ClusterRole", "eventlistener-access",
                 [_service_account_subject("eventlistener", namespace)]),
        _object(TRIGGERS_V1BETA1, "TriggerBinding", TRIGGER_BINDING_NAME, labels, namespace, spec={"params": [
            # The base repository, also for pull requests from forks: their head commit is fetchable from it.
            {"name": "git-url", "value": "$(body.repository.clone_url)"},
            {"name": "git-revision", "value": "$(extensions.git_revision)"},
        ]}),
        _object(TRIGGERS_V1BETA1, "EventListener", EVENTLISTENER_NAME, labels, namespace, spec={
            "serviceAccountName": "eventlistener",
            "namespaceSelector": {"matchNames": sorted(pipeline_namespaces)},
            "triggerGroups": [{
                "name": "github-webhooks",
                "interceptors": [{
                    "name": "github",
                    "ref": {"name": "github", "kind": "ClusterInterceptor"},
                    # Unlike the original, signatures are verified and only
                    # pushes and pull requests get through.
                    "params": [
                        {"name": "secretRef", "value": {"secretName": WEBHOOK_SECRET_NAME, "secretKey": "secret"}},
                        {"name": "eventTypes", "value": list(EVENT_TYPES)},
                    ],
                }],
                "triggerSelector": {"labelSelector": {"matchLabels": {LABEL_ORGANIZATION: name}}},
            }],
        }),
    ]
    for user in org["admin_users"]:
        objects.append(_binding("RoleBinding", admin_binding_name(user), labels, "ClusterRole", "organization-admin",
                                [{"apiGroup": RBAC, "kind": "User", "name": sso_user(user)}], namespace))
    if settings.tunnels:
        objects.append(_cloudflared(name, labels, namespace, settings))
    objects.append(_object(APHEX_V1ALPHA1, "Organization", name, labels, settings.platform_namespace,
                           spec={"displayName": org["display_name"], "adminUsers": list(org["admin_users"])},
                           status={"phase": "Ready", "namespace": namespace, "webhookURL": settings.webhook_url(name),
                                   "message": onboarded_message(name, settings)}))
    return objects


def onboarded_message(org: str, settings: TenancySettings) -> str:
    """What an onboarded organization's status says (its record's, or its Organization's under the controller)."""
    if settings.tunnels:
        return f"Organization onboarded; GitHub reaches it through Cloudflare Tunnel webhooks-{org}"
    if settings.webhook_url(org):
        return "Organization onboarded"
    return "Organization onboarded; no public webhook URL (Cloudflare tunnels are not configured)"


def _cloudflared(org: str, labels: dict, namespace: str, settings: TenancySettings) -> dict:
    """The connector of the organization's tunnel; its token comes from the Secret the tunnel module writes."""
    selector = {"app.kubernetes.io/name": "cloudflared", LABEL_ORGANIZATION: org}
    probe = {"httpGet": {"path": "/ready", "port": 2000}}
    return _object("apps/v1", "Deployment", "cloudflared", labels, namespace, spec={
        "replicas": settings.cloudflared_replicas,
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": selector},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                    "seccompProfile": {"type": "RuntimeDefault"},
                                    "sysctls": [{"name": "net.ipv4.ping_group_range", "value": "65532 65532"}]},
                "containers": [{
                    "name": "cloudflared",
                    "image": settings.cloudflared_image,
                    "args": ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"],
                    # From the environment, so the token is not visible in the process list.
                    "env": [{"name": "TUNNEL_TOKEN",
                             "valueFrom": {"secretKeyRef": {"name": TOKEN_SECRET, "key": "token"}}}],
                    "ports": [{"name": "metrics", "containerPort": 2000}],
                    "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
                    "readinessProbe": {**probe, "periodSeconds": 5},
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                  "limits": {"cpu": "500m", "memory": "256Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}},
                }],
            },
        },
    })


def _dispatcher_template(name: str, labels: dict, namespace: str) -> dict:
    """TriggerTemplate implementing the run-pipeline-v1 contract."""
    params = ["git-url", "git-revision", "repo-full-name", "event-type", "event-id", "pipeline-name",
              "pipeline-namespace"]
    template_params = [{"name": param} for param in params]
    template_params += [{"name": "org-name", "default": ""}, {"name": "triggered-at", "default": ""}]
    run = {
        "apiVersion": TEKTON_V1,
        "kind": "PipelineRun",
        "metadata": {
            "generateName": "$(tt.params.pipeline-name)-",
            "namespace": "$(tt.params.pipeline-namespace)",
            "labels": {"platform.aphex/triggered": "true", "platform.aphex/event-type": "$(tt.params.event-type)",
                       "platform.aphex/event-id": "$(tt.params.event-id)"},
        },
        "spec": {
            "pipelineRef": {"resolver": "cluster", "params": [
                {"name": "kind", "value": "pipeline"},
                {"name": "name", "value": "$(tt.params.pipeline-name)"},
                {"name": "namespace", "value": "$(tt.params.pipeline-namespace)"},
            ]},
            "params": [
                {"name": "git-url", "value": "$(tt.params.git-url)"},
                {"name": "git-revision", "value": "$(tt.params.git-revision)"},
                {"name": "repo-full-name", "value": ["$(tt.params.repo-full-name)"]},
                {"name": "event-type", "value": "$(tt.params.event-type)"},
                {"name": "event-id", "value": "$(tt.params.event-id)"},
                {"name": "triggered-at", "value": "$(tt.params.triggered-at)"},
                {"name": "org-name", "value": "$(tt.params.org-name)"},
            ],
            "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}],
            "taskRunTemplate": {"serviceAccountName": "pipeline-runner"},
            "timeouts": {"pipeline": "1h0m0s"},
        },
    }
    return _object(TRIGGERS_V1BETA1, "TriggerTemplate", f"{name}-trigger-template",
                   {**labels, LABEL_TEMPLATE_VERSION: "v1"}, namespace,
                   spec={"params": template_params, "resourcetemplates": [run]})


def event_filter(repo: str, pull_requests: str = PULL_REQUESTS_DEFAULT) -> str:
    """CEL filter of a pipeline's Trigger: its repository, and only the events the binding can read; of pull
    requests - whose code anyone who can open one writes, a fork's author included - those of `pull_requests`
    (PULL_REQUEST_AUTHORS)."""
    actions = ", ".join(f"'{action}'" for action in PULL_REQUEST_ACTIONS)
    authors = PULL_REQUEST_AUTHORS[pull_requests]
    if authors is None:
        pull_request = "false"
    else:
        pull_request = f"body.action in [{actions}]"
        if authors:
            trusted = ", ".join(f"'{association}'" for association in authors)
            pull_request += f" && body.pull_request.author_association in [{trusted}]"
    return (f"body.repository.full_name == '{repo}' && (has(body.pull_request) ? {pull_request} "
            ": (has(body.after) && !(has(body.deleted) && body.deleted)))")


def _isolation(name: str, org: str, labels: dict, quota: dict, settings: TenancySettings) -> list:
    ingress_from = [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {LABEL_ORGANIZATION: org}}},
    ]
    if settings.ingress_namespaces:
        ingress_from.append({"namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(settings.ingress_namespaces)}]}})
    if settings.egress == "restricted":
        egress = [
            {"to": [{"podSelector": {}}]},
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
             "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]},
        ]
    else:
        egress = [{}]
    return [
        _object("v1", "ResourceQuota", "tenant-quota", labels, name, spec={"hard": {**settings.quota, **quota}}),
        _object("v1", "LimitRange", "tenant-limits", labels, name,
                spec={"limits": [{"type": "Container", **settings.limits}]}),
        _object("networking.k8s.io/v1", "NetworkPolicy", "tenant-isolation", labels, name, spec={
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{"from": ingress_from}],
            "egress": egress}),
    ]


def _project_roles(project: str, org: str, org_admins) -> list:
    """The AppProject's role for its organization's admins in ArgoCD: they see and sync the pipeline's Applications,
    nothing else. ArgoCD matches a role's groups against the signed-in user's groups and email claims (argocd-rbac-cm
    `scopes`), so the admins are named by email as in `admin_users`."""
    role = PROJECT_ROLE_ORGANIZATION_ADMIN
    return [{"name": role, "description": f"Admins of organization {org}: see and sync this pipeline's Applications",
             "policies": [f"p, proj:{project}:{role}, applications, {action}, {project}/*, allow"
                          for action in ("get", "sync")],
             "groups": sorted(org_admins)}]


def render_pipeline(pipeline: dict, pipeline_document: dict, webhook_secret_b64: str,
                    settings: TenancySettings, org_admins=()) -> list:
    """Everything pipeline `pipeline` owns, in its namespace, its org's namespace, argocd and cluster-wide;
    ORG_ADMINS: its organization's admin_users (its AppProject's role in ArgoCD)."""
    name, org, repo = pipeline["name"], pipeline["organization"], pipeline["repo"]
    repo_owner, repo_name = repo.split("/", 1)
    org_ns = org_namespace(org)
    labels = tenant_labels(org, name)
    runner = [_service_account_subject("pipeline-runner", name)]
    tekton_pipeline = {
        "apiVersion": TEKTON_V1, "kind": "Pipeline",
        "metadata": {**_meta(name, {**(pipeline_document.get("metadata") or {}).get("labels", {}), **labels}, name)},
        "spec": pipeline_document["spec"],
    }
    objects = [
        _namespace(name, {**labels, LABEL_REPO: repo_label_value(repo), **pod_security_labels(PIPELINE_POD_SECURITY)},
                   {ANNOTATION_INGRESS_DOMAIN: ingress_domain(name, settings)}),
        _object("v1", "ConfigMap", "pipeline-context", labels, name, data={
            "REPO_URL": f"https://github.com/{repo}", "REPO_ORG": repo_owner, "REPO_NAME": repo_name,
            "APHEX_ORG": org, "PIPELINE_NAME": name, "ORG_NAMESPACE": org_ns}),
        tekton_pipeline,
        _object("v1", "ServiceAccount", "pipeline-runner", labels, name),
        _object(RBAC_V1, "Role", "pipeline-runner", labels, name, rules=PIPELINE_RUNNER_RULES),
        _binding("RoleBinding", "pipeline-runner", labels, "Role", "pipeline-runner", runner, name),
        _object(RBAC_V1, "ClusterRole", f"pipeline-runner-{name}", labels, rules=[
            {"apiGroups": ["triggers.tekton.dev"], "resources": ["clusterinterceptors", "clustertriggerbindings"],
             "verbs": ["get", "list", "watch"]}]),
        _binding("ClusterRoleBinding", f"pipeline-runner-{name}", labels, "ClusterRole", f"pipeline-runner-{name}",
                 runner),
        # Only Applications in the pipeline's own namespace may use this project, and they deploy to that
        # namespace alone: a `<name>-*` destination would reach every namespace sharing the prefix (a pipeline
        # named `kube` would reach kube-system). What the isolation rests on (network policy, quota, limits,
        # role bindings) is not the tenant's to deploy: ArgoCD applies with cluster-wide rights.
        _object(ARGOCD_V1ALPHA1, "AppProject", name, labels, settings.argocd_namespace, spec={
            "description": f"Project for {name} pipeline",
            "sourceRepos": [f"{settings.git_server_url}/{repo}", f"{settings.git_server_url}/{repo}.git"],
            "sourceNamespaces": [name],
            "destinations": [{"server": IN_CLUSTER, "namespace": name}],
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}, {"group": "", "kind": "LimitRange"},
                                           {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
                                           {"group": RBAC, "kind": "RoleBinding"}],
            "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
            "roles": _project_roles(name, org, org_admins),
        }),
        _object("v1", "Secret", WEBHOOK_SECRET_NAME, labels, name, type="Opaque", data={"secret": webhook_secret_b64}),
        _dispatcher_template(name, labels, org_ns),
        _object(TRIGGERS_V1BETA1, "Trigger", f"{name}-trigger", labels, org_ns, spec={
            "interceptors": [{"ref": {"name": "cel", "kind": "ClusterInterceptor"}, "params": [
                {"name": "filter", "value": event_filter(repo, pipeline.get("pull_requests", PULL_REQUESTS_DEFAULT))},
                {"name": "overlays", "value": [{"key": "git_revision", "expression": REVISION_EXPRESSION}]}]}],
            "bindings": [
                {"ref": TRIGGER_BINDING_NAME},
                {"name": "pipeline-name", "value": name},
                {"name": "pipeline-namespace", "value": name},
                {"name": "org-name", "value": org},
                {"name": "repo-full-name", "value": repo},
                {"name": "event-type", "value": "$(header.X-Github-Event)"},
                {"name": "event-id", "value": "$(header.X-Github-Delivery)"},
                {"name": "triggered-at", "value": "$(body.repository.pushed_at)"},
            ],
            "template": {"ref": f"{name}-trigger-template"},
        }),
    ]
    if pipeline.get("isolation", settings.isolation):
        objects += _isolation(name, org, labels, pipeline.get("quota") or {}, settings)
    objects.append(_object(APHEX_V1ALPHA1, "RepoBinding", name, labels, settings.platform_namespace, spec={
        "aphexOrg": org, "repoOrg": repo_owner, "repoName": repo_name, "pipelineName": name,
        "templateRef": DISPATCHER_TEMPLATE,
    }, status={"phase": "Ready", "message": "Pipeline onboarded", "namespace": name,
               "webhookURL": settings.webhook_url(org)}))
    return objects
