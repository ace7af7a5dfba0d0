"""A tenant never leaves its box: the isolation matrix, sent through the real API server with each tenant's own
identity (impersonation: the API server then authorizes and admits the request exactly as it would the tenant's
own credentials, service-account groups included).

Issue 11 item 1: every pipeline's runner could create, patch and delete any Application in ArgoCD's namespace -
one in project `default` (every destination, every cluster-scoped kind), another tenant's, or `platform-root`
itself - and ArgoCD would apply it with its own cluster-wide rights. Now a runner writes Applications in its own
namespace only, ArgoCD accepts them there only for the pipeline's own project, and two admission policies refuse
any other project or destination, and any runner write in ArgoCD's namespace, whoever grants the rights.

Issue 27 item 3: organization admins create RepoBindings in their organization's namespace only, never naming another
organization, asking for more quota than the platform gives or setting the platform's labels (the admission policy
aphex-tenant-repobindings); only platform admins create Organizations.

Issue 23 item 6: the runner could also start a pod that is privileged, shares the host's PID and network
namespaces and mounts the host's `/` - root on the node. Pod Security Admission now refuses such a pod in every
tenant namespace whoever creates it (the tenant, Tekton's controller for a TaskRun, the ReplicaSet controller for
what ArgoCD deployed: the cluster admin stands for them here), and the admission policy aphex-tenant-hosts refuses a
route of a tenant for any host but its own (ArgoCD's, say).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
from ansible_collections.aphex.platform.plugins.module_utils.naming import sso_user
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TenancySettings
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.self_service import Reconciler
from harness.inventory import onboard, org, pipeline, write_inventory
from harness.kube import REPO, wait_for

APPLICATION = "argoproj.io/v1alpha1"
APHEX = "aphex.io/v1alpha1"
APPS_DOMAIN = "apps.iso.test"
RESULTS = REPO / "build" / "test-results"


def _api_as(kubeconfig: Path, user: str | None = None):
    api = config.new_client_from_config(config_file=str(kubeconfig))
    if user:
        api.set_default_header("Impersonate-User", user)
    return dynamic.DynamicClient(api)


def _application(name: str, namespace: str, project: str, destination_namespace: str,
                 server: str = "https://kubernetes.default.svc") -> dict:
    return {"apiVersion": APPLICATION, "kind": "Application", "metadata": {"name": name, "namespace": namespace},
            "spec": {"project": project,
                     "source": {"repoURL": "https://github.com/acme-corp/web", "path": "deploy", "targetRevision": "main"},
                     "destination": {"server": server, "namespace": destination_namespace}}}


@dataclass
class Outcome:
    allowed: bool
    by: str  # "" when allowed; "RBAC" or the admission policy's name when refused
    detail: str


def _attempt(action) -> Outcome:
    try:
        action()
    except ApiException as error:
        body = error.body.decode() if isinstance(error.body, bytes) else str(error.body or "")
        if error.status == 403 and "violates PodSecurity" in body:
            level = body.split('violates PodSecurity \\"', 1)[-1].split(":", 1)[0]
            return Outcome(False, f"PodSecurity {level}", body)
        if error.status in (403, 422) and "ValidatingAdmissionPolicy" in body:
            policy = body.split("ValidatingAdmissionPolicy '", 1)[1].split("'", 1)[0]
            return Outcome(False, policy, body)
        if error.status == 403:
            return Outcome(False, "RBAC", body)
        raise
    return Outcome(True, "", "")


@pytest.fixture
def two_tenants(platform_apis, control_plane, tmp_path):
    s = uuid.uuid4().hex[:6]
    names = {"a": f"iso-a{s}", "b": f"iso-b{s}", "web": f"web-a{s}", "site": f"site-b{s}"}
    inventory = write_inventory(
        tmp_path / "inventory", control_plane.admin_kubeconfig,
        aphex_tenant_apps_domain=APPS_DOMAIN,
        aphex_organizations=[org(names["a"], f"alice@{names['a']}.io"), org(names["b"], f"bob@{names['b']}.io")],
        aphex_pipelines=[pipeline(names["web"], names["a"], "acme-corp/web"),
                         pipeline(names["site"], names["b"], "bolt/site")])
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    # the quota a RepoBinding may lower, as the tenant controller publishes it (the policy's parameter)
    Reconciler(ClusterApi(kubeconfig=str(control_plane.admin_kubeconfig)), TenancySettings(), {}).publish_quota()
    admin = _api_as(control_plane.admin_kubeconfig)
    applications = admin.resources.get(api_version=APPLICATION, kind="Application")
    # the platform's root and tenant B's own Application, for A to try to touch
    for body in (_application("platform-root", "argocd", "platform", "argocd"),
                 _application(f"{names['site']}-app", names["site"], names["site"], names["site"])):
        applications.server_side_apply(body=body, field_manager="aphex-tests", force_conflicts=True)
    # policies are loaded asynchronously: wait until one refuses (as the cluster admin, whom RBAC lets through)
    probe = _application("probe", names["web"], "default", names["web"])
    assert wait_for(lambda: not _attempt(lambda: applications.create(
        body=probe, namespace=names["web"], dry_run="All")).allowed, timeout=30)
    ingresses = admin.resources.get(api_version="networking.k8s.io/v1", kind="Ingress")
    stray = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "probe"},
             "spec": {"defaultBackend": {"service": {"name": "x", "port": {"number": 80}}}}}
    assert wait_for(lambda: not _attempt(lambda: ingresses.create(
        body=stray, namespace=names["web"], dry_run="All")).allowed, timeout=30)
    return names


def _identities(names):
    return {
        # as the kube-apiserver names them once signed in through the platform's Dex (kube_sso.py)
        "org admin A": sso_user(f"alice@{names['a']}.io"),
        "org admin B": sso_user(f"bob@{names['b']}.io"),
        "runner A": f"system:serviceaccount:{names['web']}:pipeline-runner",
        "runner B": f"system:serviceaccount:{names['site']}:pipeline-runner",
        # stands for whatever creates a tenant's pods and routes with wide rights: Tekton's controller for a TaskRun,
        # the ReplicaSet controller and ArgoCD for what ArgoCD deployed
        "cluster admin": None,
    }


def _matrix(names):
    """(identity, what, expected: allowed or the refusing layer, the request)."""
    web, site, org_a, org_b = names["web"], names["site"], f"org-{names['a']}", f"org-{names['b']}"
    app = _application

    def create(kind, api_version, body, namespace=None, dry_run=True):
        return lambda api: api.resources.get(api_version=api_version, kind=kind).create(
            body=body, namespace=namespace, dry_run="All" if dry_run else None)

    def patch_app(name, namespace):
        return lambda api: api.resources.get(api_version=APPLICATION, kind="Application").patch(
            name=name, namespace=namespace, body={"spec": {"project": "default"}},
            content_type="application/merge-patch+json", dry_run="All")

    def delete_app(name, namespace):
        return lambda api: api.resources.get(api_version=APPLICATION, kind="Application").delete(
            name=name, namespace=namespace, dry_run="All")

    def patch_secret(name, namespace):
        return lambda api: api.resources.get(api_version="v1", kind="Secret").patch(
            name=name, namespace=namespace, body={"stringData": {"registry-token": "t0ken"}},
            content_type="application/merge-patch+json", dry_run="All")

    def read(kind, api_version, namespace):
        return lambda api: api.resources.get(api_version=api_version, kind=kind).get(namespace=namespace)

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"a": "b"}}

    def pod(**spec):
        container = {"name": "x", "image": "registry.example/x:1", **spec.pop("container", {})}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                "spec": {"containers": [container], **spec}}

    def ingress(*hosts, tls=()):
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"}, "spec": {
            "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": "web", "port": {"number": 80}}}}]}} if host else {"http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}
                for host in hosts],
            **({"tls": [{"hosts": list(tls), "secretName": "x"}]} if tls else {})}}

    def repo_binding(org, namespace, quota=None, labels=None):
        return {"apiVersion": APHEX, "kind": "RepoBinding",
                "metadata": {"name": "self-served", "namespace": namespace, "labels": labels or {}},
                "spec": {"aphexOrg": org, "repoOrg": "acme-corp", "repoName": "self-served",
                         "pipelineName": "self-served", "templateRef": "run-pipeline-v1",
                         **({"quota": quota} if quota else {})}}

    root_on_the_node = pod(hostPID=True, hostNetwork=True, volumes=[{"name": "host", "hostPath": {"path": "/"}}],
                           container={"securityContext": {"privileged": True},
                                      "volumeMounts": [{"name": "host", "mountPath": "/host"}]})
    baseline = pod(container={"securityContext": {"runAsUser": 1000, "allowPrivilegeEscalation": False,
                                                  "capabilities": {"add": ["SETUID", "SETGID"]}}})
    own_host, other_host = f"{web}.{APPS_DOMAIN}", f"{site}.{APPS_DOMAIN}"
    return [
        ("runner A", "pod: privileged, host PID and network, host / mounted", "PodSecurity baseline",
         create("Pod", "v1", root_on_the_node, web)),
        ("runner A", "pod: privileged", "PodSecurity baseline",
         create("Pod", "v1", pod(container={"securityContext": {"privileged": True}}), web)),
        ("runner A", "pod: host PID", "PodSecurity baseline", create("Pod", "v1", pod(hostPID=True), web)),
        ("runner A", "pod: host network", "PodSecurity baseline", create("Pod", "v1", pod(hostNetwork=True), web)),
        ("runner A", "pod: host path /", "PodSecurity baseline", create("Pod", "v1", pod(
            volumes=[{"name": "h", "hostPath": {"path": "/"}}]), web)),
        ("runner A", "pod: SYS_ADMIN added", "PodSecurity baseline", create("Pod", "v1", pod(
            container={"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}), web)),
        ("runner A", "pod as buildah-build-v1 runs (non-root, SETUID/SETGID)", True, create("Pod", "v1", baseline, web)),
        ("cluster admin", "pod root on the node in A's pipeline (as Tekton or a ReplicaSet would)",
         "PodSecurity baseline", create("Pod", "v1", root_on_the_node, web)),
        ("cluster admin", "pod as buildah runs, in A's organization namespace", "PodSecurity restricted",
         create("Pod", "v1", baseline, org_a)),
        ("cluster admin", "Ingress in A's pipeline for argocd.platform.test (as ArgoCD would)", "aphex-tenant-hosts",
         create("Ingress", "networking.k8s.io/v1", ingress("argocd.platform.test"), web)),
        ("cluster admin", "Ingress in A's pipeline for B's host", "aphex-tenant-hosts",
         create("Ingress", "networking.k8s.io/v1", ingress(other_host), web)),
        ("cluster admin", "Ingress in A's pipeline with a TLS host of the platform", "aphex-tenant-hosts",
         create("Ingress", "networking.k8s.io/v1", ingress(own_host, tls=["dex.platform.test"]), web)),
        ("cluster admin", "Ingress in A's pipeline without a host (every host)", "aphex-tenant-hosts",
         create("Ingress", "networking.k8s.io/v1", ingress(""), web)),
        ("cluster admin", "Ingress in A's pipeline for its own hosts", True,
         create("Ingress", "networking.k8s.io/v1", ingress(own_host, f"api.{own_host}", tls=[f"*.{own_host}"]), web)),
        ("runner A", "its own Application, own project, own namespace", True,
         create("Application", APPLICATION, app("own", web, web, web), web, dry_run=False)),
        ("runner A", "Application in own namespace, project default", "aphex-tenant-applications",
         create("Application", APPLICATION, app("x", web, "default", web), web)),
        ("runner A", "Application in own namespace, B's project", "aphex-tenant-applications",
         create("Application", APPLICATION, app("x", web, site, site), web)),
        ("runner A", "Application in own namespace deploying to kube-system", "aphex-tenant-applications",
         create("Application", APPLICATION, app("x", web, web, "kube-system"), web)),
        ("runner A", "Application in own namespace, no destination namespace", "aphex-tenant-applications",
         create("Application", APPLICATION, {**app("x", web, web, web), "spec": {
             **app("x", web, web, web)["spec"], "destination": {"server": "https://kubernetes.default.svc"}}}, web)),
        ("runner A", "Application in own namespace, another cluster", "aphex-tenant-applications",
         create("Application", APPLICATION, app("x", web, web, web, server="https://10.0.0.1:6443"), web)),
        ("runner A", "Application in argocd (own project)", "RBAC",
         create("Application", APPLICATION, app("x", "argocd", web, web), "argocd")),
        ("runner A", "patch platform-root", "RBAC", patch_app("platform-root", "argocd")),
        ("runner A", "delete platform-root", "RBAC", delete_app("platform-root", "argocd")),
        ("runner A", "patch B's Application", "RBAC", patch_app(f"{site}-app", site)),
        ("runner A", "delete B's Application", "RBAC", delete_app(f"{site}-app", site)),
        ("runner A", "create an AppProject", "RBAC", create("AppProject", APPLICATION, {
            "apiVersion": APPLICATION, "kind": "AppProject", "metadata": {"name": "x", "namespace": "argocd"},
            "spec": {"destinations": [{"server": "*", "namespace": "*"}]}}, "argocd")),
        ("runner A", "list secrets in B's pipeline", "RBAC", read("Secret", "v1", site)),
        ("runner A", "list secrets in B's organization", "RBAC", read("Secret", "v1", org_b)),
        ("runner A", "list secrets in its own organization", "RBAC", read("Secret", "v1", org_a)),
        ("runner A", "list secrets in argocd", "RBAC", read("Secret", "v1", "argocd")),
        ("runner A", "list secrets in kube-system", "RBAC", read("Secret", "v1", "kube-system")),
        ("runner A", "create a Secret in platform-system", "RBAC", create("Secret", "v1", secret, "platform-system")),
        ("runner A", "create a namespace", "RBAC", create("Namespace", "v1", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "escape"}})),
        ("runner A", "create a ClusterRoleBinding", "RBAC", create("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "escape"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "pipeline-runner", "namespace": web}]})),
        ("runner A", "delete its own NetworkPolicy", "RBAC", lambda api: api.resources.get(
            api_version="networking.k8s.io/v1", kind="NetworkPolicy").delete(
            name="tenant-isolation", namespace=web, dry_run="All")),
        ("runner A", "create a Secret in its own namespace", True, create("Secret", "v1", secret, web)),
        ("runner B", "its own Application", True, create("Application", APPLICATION, app("x", site, site, site), site)),
        ("runner B", "Application in A's namespace", "RBAC",
         create("Application", APPLICATION, app("x", web, web, web), web)),
        ("runner B", "list secrets in A's pipeline", "RBAC", read("Secret", "v1", web)),
        ("org admin A", "list secrets in own organization", True, read("Secret", "v1", org_a)),
        ("org admin A", "list Applications in own pipeline", "RBAC", read("Application", APPLICATION, web)),
        ("org admin A", "list secrets in B's organization", "RBAC", read("Secret", "v1", org_b)),
        ("org admin A", "list secrets in B's pipeline", "RBAC", read("Secret", "v1", site)),
        ("org admin A", "create a pod in own organization", "RBAC", create("Pod", "v1", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
            "spec": {"containers": [{"name": "x", "image": "x"}]}}, org_a)),
        ("org admin A", "Application in argocd", "RBAC",
         create("Application", APPLICATION, app("x", "argocd", "default", "kube-system"), "argocd")),
        ("org admin A", "create a namespace", "RBAC", create("Namespace", "v1", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "escape"}})),
        ("org admin A", "fill in org-secrets of own organization", True, patch_secret("org-secrets", org_a)),
        ("org admin A", "fill in org-secrets of B's organization", "RBAC", patch_secret("org-secrets", org_b)),
        ("org admin A", "change own organization's webhook secret", "RBAC",
         patch_secret("github-webhook-secret", org_a)),
        ("org admin A", "create a Secret in own organization (could be a ServiceAccount's token)", "RBAC",
         create("Secret", "v1", secret, org_a)),
        # self-service (issue 27): RepoBindings in the organization's own namespace, within the platform's rules
        ("org admin A", "RepoBinding in own organization", True,
         create("RepoBinding", APHEX, repo_binding(names["a"], org_a), org_a)),
        ("org admin A", "RepoBinding in B's organization", "RBAC",
         create("RepoBinding", APHEX, repo_binding(names["b"], org_b), org_b)),
        ("org admin A", "RepoBinding in own namespace for B's organization", "aphex-tenant-repobindings",
         create("RepoBinding", APHEX, repo_binding(names["b"], org_a), org_a)),
        ("org admin A", "RepoBinding with more quota than the platform gives", "aphex-tenant-repobindings",
         create("RepoBinding", APHEX, repo_binding(names["a"], org_a, quota={"limits.cpu": "64"}), org_a)),
        ("org admin A", "RepoBinding with the platform's labels", "aphex-tenant-repobindings",
         create("RepoBinding", APHEX, repo_binding(names["a"], org_a, labels={
             "platform.aphex/managed-by": "aphex-platform"}), org_a)),
        ("org admin A", "RepoBinding in platform-system", "RBAC",
         create("RepoBinding", APHEX, repo_binding(names["a"], "platform-system"), "platform-system")),
        ("org admin A", "create an Organization", "RBAC", create("Organization", APHEX, {
            "apiVersion": APHEX, "kind": "Organization", "metadata": {"name": "escape", "namespace": "platform-system"},
            "spec": {"displayName": "x", "adminUsers": ["x@x.io"]}}, "platform-system")),
        ("runner A", "RepoBinding in its organization", "RBAC",
         create("RepoBinding", APHEX, repo_binding(names["a"], org_a), org_a)),
        ("org admin B", "list secrets in own organization", True, read("Secret", "v1", org_b)),
        ("org admin B", "list secrets in A's organization", "RBAC", read("Secret", "v1", org_a)),
    ]


def test_isolation_matrix_with_each_tenants_own_identity(two_tenants, control_plane):
    """Issue 11 item 1: org admin A vs B, runner A vs B, runners vs the platform's namespaces, cluster-scoped
    writes; each request sent as the tenant, each refusal by the layer named (RBAC or the admission policy)."""
    names = two_tenants
    identities = _identities(names)
    rows, wrong = [], []
    for who, what, expected, action in _matrix(names):
        outcome = _attempt(lambda: action(_api_as(control_plane.admin_kubeconfig, identities[who])))
        got = True if outcome.allowed else outcome.by
        rows.append((who, what, "allowed" if expected is True else f"refused ({expected})",
                     "allowed" if got is True else f"refused ({got})"))
        if got != expected:
            wrong.append((who, what, expected, got, outcome.detail[:300]))
    width = max(len(f"{r[0]}: {r[1]}") for r in rows)
    table = "\n".join(f"{(r[0] + ': ' + r[1]).ljust(width)}  expected {r[2]:<40} got {r[3]}" for r in rows)
    print("\nisolation matrix\n" + table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "isolation-matrix.txt").write_text(table + "\n")
    assert not wrong, wrong
    # the runner's own Application really exists, in its namespace
    own = _api_as(control_plane.admin_kubeconfig).resources.get(api_version=APPLICATION, kind="Application").get(
        name="own", namespace=names["web"])
    assert own.spec.project == names["web"]


def test_admission_refuses_even_what_rbac_would_allow(two_tenants, control_plane):
    """Defence in depth: a RoleBinding added by mistake that lets runner A write Applications in ArgoCD's
    namespace, and the cluster admin itself in a pipeline namespace, are still refused by the policies."""
    names = two_tenants
    admin = _api_as(control_plane.admin_kubeconfig)
    rbac = client.RbacAuthorizationV1Api(admin.client)
    mistake = f"mistake-{names['web']}"
    rbac.create_namespaced_role("argocd", {"metadata": {"name": mistake}, "rules": [
        {"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": ["*"]}]})
    binding = {"metadata": {"name": mistake},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": mistake},
               "subjects": [{"kind": "ServiceAccount", "name": "pipeline-runner", "namespace": names["web"]}]}
    rbac.create_namespaced_role_binding("argocd", binding)
    try:
        runner = _api_as(control_plane.admin_kubeconfig, _identities(names)["runner A"])
        applications = runner.resources.get(api_version=APPLICATION, kind="Application")
        hijack = {"metadata": {"name": "platform-root"}, "spec": {"project": "default"}}

        def refused_by_a_policy():
            outcome = _attempt(lambda: applications.patch(
                name="platform-root", namespace="argocd", body=hijack, content_type="application/merge-patch+json",
                dry_run="All"))
            return outcome if not outcome.allowed and outcome.by != "RBAC" else None

        outcome = wait_for(refused_by_a_policy, timeout=15)
        assert outcome and outcome.by == "aphex-pipeline-runner-argocd", outcome
        assert "may write Applications in its own namespace only" in outcome.detail
        outcome = _attempt(lambda: applications.create(
            body=_application("x", "argocd", names["web"], names["web"]), namespace="argocd", dry_run="All"))
        assert outcome.by == "aphex-pipeline-runner-argocd"
    finally:
        rbac.delete_namespaced_role_binding(mistake, "argocd")
        rbac.delete_namespaced_role(mistake, "argocd")
    outcome = _attempt(lambda: admin.resources.get(api_version=APPLICATION, kind="Application").create(
        body=_application("x", names["web"], "default", "kube-system"), namespace=names["web"], dry_run="All"))
    assert outcome.by == "aphex-tenant-applications"
    assert f"must use the AppProject {names['web']}, not default" in outcome.detail
