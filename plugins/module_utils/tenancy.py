# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge organizations and pipelines from inventory in one pass each.

Both modules validate the whole inventory first, then read every managed
object once per kind, then write only what differs.
"""

from __future__ import annotations

import base64
import secrets

from ansible.module_utils.common.yaml import yaml_load

from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    LABEL_MANAGED_BY,
    LABEL_ORGANIZATION,
    LABEL_OWNER_KIND,
    LABEL_OWNER_NAME,
    LABEL_PIPELINE,
    MANAGED_BY,
    OWNER_ORGANIZATION,
    OWNER_PIPELINE,
    org_namespace,
)
from ansible_collections.aphex.platform.plugins.module_utils.reconcile import execute, object_key, plan
from ansible_collections.aphex.platform.plugins.module_utils.tenants import (
    WEBHOOK_SECRET_NAME,
    render_organization,
    render_pipeline,
)
from ansible_collections.aphex.platform.plugins.module_utils.validation import validate_tenants

RBAC_V1 = "rbac.authorization.k8s.io/v1"
TRIGGERS = "triggers.tekton.dev/v1beta1"
ORGANIZATION_KINDS = (
    ("v1", "Namespace"), ("v1", "Secret"), ("v1", "ServiceAccount"), (RBAC_V1, "Role"), (RBAC_V1, "RoleBinding"),
    (RBAC_V1, "ClusterRoleBinding"), ("external-secrets.io/v1", "ClusterSecretStore"), (TRIGGERS, "TriggerBinding"),
    (TRIGGERS, "EventListener"), ("apps/v1", "Deployment"), ("aphex.io/v1alpha1", "Organization"),
)
PIPELINE_KINDS = (
    ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), (RBAC_V1, "Role"),
    (RBAC_V1, "RoleBinding"), (RBAC_V1, "ClusterRole"), (RBAC_V1, "ClusterRoleBinding"), ("v1", "ResourceQuota"),
    ("v1", "LimitRange"), ("networking.k8s.io/v1", "NetworkPolicy"), ("tekton.dev/v1", "Pipeline"),
    (TRIGGERS, "TriggerTemplate"), (TRIGGERS, "Trigger"), ("argoproj.io/v1alpha1", "AppProject"),
    ("aphex.io/v1alpha1", "RepoBinding"),
)
APPLICATION = ("argoproj.io/v1alpha1", "Application")
MANAGED_SELECTOR = f"{LABEL_MANAGED_BY}={MANAGED_BY}"


class TenancyError(Exception):
    """A problem with the request as a whole, found before any write."""


def _labels(obj: dict) -> dict:
    return obj.get("metadata", {}).get("labels") or {}


def _owned_by(obj: dict, kind: str, name: str) -> bool:
    labels = _labels(obj)
    return labels.get(LABEL_OWNER_KIND) == kind and labels.get(LABEL_OWNER_NAME) == name


class Tenancy:
    def __init__(self, api, organizations, pipelines, settings, prune=False, check_mode=False):
        self.api = api
        self.settings = settings
        self.organizations = {org["name"]: org for org in organizations}
        self.pipelines = {pipeline["name"]: pipeline for pipeline in pipelines}
        self.prune = prune
        self.check_mode = check_mode
        self.live = {}

    # ------------------------------------------------------------------ reads
    def _read(self, kinds) -> None:
        self.api.require(kinds)
        for api_version, kind in kinds:
            for obj in self.api.list(api_version, kind, MANAGED_SELECTOR):
                self.live[object_key(obj)] = obj

    def _live_tenants(self, owner_kind: str) -> dict:
        """Managed tenants found in the cluster: name -> organization."""
        found = {}
        for obj in self.live.values():
            labels = _labels(obj)
            if labels.get(LABEL_OWNER_KIND) == owner_kind:
                found[labels.get(LABEL_OWNER_NAME)] = labels.get(LABEL_ORGANIZATION)
        return found

    def _webhook_secret(self, org: str):
        live = self.live.get(("v1", "Secret", org_namespace(org), WEBHOOK_SECRET_NAME))
        return ((live or {}).get("data") or {}).get("secret")

    def _removed_pipelines(self) -> set:
        removed = {name for name, pipeline in self.pipelines.items() if pipeline.get("state", "present") == "absent"}
        if self.prune:
            removed |= set(self._live_tenants(OWNER_PIPELINE)) - set(self.pipelines)
        return removed

    def _deletions(self, owner_kind: str, names) -> list:
        """Live keys owned by the named tenants; objects inside a namespace being deleted go with it."""
        keys = [key for key, obj in self.live.items() if any(_owned_by(obj, owner_kind, name) for name in names)]
        if owner_kind == OWNER_ORGANIZATION:  # a removed organization takes its pipelines' objects along
            keys += [key for key, obj in self.live.items() if key not in keys
                     and _labels(obj).get(LABEL_ORGANIZATION) in names]
        namespaces = {key[3] for key in keys if key[1] == "Namespace"}
        return [key for key in keys if key[2] not in namespaces]

    def _applications_of(self, pipelines) -> list:
        """ArgoCD Applications deployed by the removed pipelines (labelled, not created by us)."""
        if not pipelines:
            return []
        api_version, kind = APPLICATION
        self.api.require([APPLICATION])
        keys = []
        for obj in self.api.list(api_version, kind, LABEL_PIPELINE):
            if _labels(obj).get(LABEL_PIPELINE) in pipelines:
                key = object_key(obj)
                self.live[key] = obj
                keys.append(key)
        return keys

    def _stale(self, owner_kind: str, names, desired) -> list:
        """Objects a present tenant owns but no longer needs (a removed admin, isolation turned off)."""
        wanted = {object_key(manifest) for manifest in desired}
        return [key for key, obj in self.live.items() if key not in wanted
                and any(_owned_by(obj, owner_kind, name) for name in names)]

    def _missing_namespaces(self, desired) -> set:
        """Namespaces the desired objects live in that do not exist (yet): check mode cannot dry-run there."""
        existing = {key[3] for key in self.live if key[1] == "Namespace"}
        existing |= {self.settings.platform_namespace, self.settings.argocd_namespace}
        return {m["metadata"].get("namespace") or m["metadata"]["name"] for m in desired} - existing

    # ---------------------------------------------------------- organizations
    def converge_organizations(self):
        self._read(list(dict.fromkeys(ORGANIZATION_KINDS + PIPELINE_KINDS)))
        present = {name: org for name, org in self.organizations.items() if org.get("state", "present") == "present"}
        removed = {name for name, org in self.organizations.items() if org.get("state") == "absent"}
        if self.prune:
            removed |= set(self._live_tenants(OWNER_ORGANIZATION)) - set(self.organizations)

        removed_pipelines = self._removed_pipelines()
        live_pipelines = self._live_tenants(OWNER_PIPELINE)
        blocked = []
        for org in sorted(removed):
            remaining = sorted(p for p, owner in live_pipelines.items() if owner == org and p not in removed_pipelines)
            if remaining and not (self.organizations.get(org) or {}).get("cascade", False):
                blocked.append(f"organization '{org}' still has pipelines {', '.join(remaining)}: remove them first "
                               "or set cascade: true on the organization")
        if blocked:
            raise TenancyError("; ".join(blocked))

        desired, secrets_out = [], {}
        for name, org in present.items():
            secret = self._webhook_secret(name)
            if secret is None or org.get("rotate_webhook_secret", False):
                secret = base64.b64encode(secrets.token_hex(32).encode()).decode()
            secrets_out[name] = secret
            pipeline_namespaces = [p for p, entry in self.pipelines.items()
                                   if entry.get("organization") == name and entry.get("state", "present") == "present"]
            desired += render_organization(org, pipeline_namespaces, secret, self.settings)

        removed_org_pipelines = {p for p, owner in live_pipelines.items() if owner in removed}
        deletions = self._deletions(OWNER_ORGANIZATION, removed) + self._stale(OWNER_ORGANIZATION, present, desired)
        deletions += self._applications_of(removed_org_pipelines)
        result = plan(desired, self.live, deletions)
        execute(self.api, result, self.check_mode, self._missing_namespaces(desired))
        tenants = [{"name": name, "state": "present", "namespace": org_namespace(name),
                    "webhook_url": self.settings.webhook_url(name)} for name in present]
        tenants += [{"name": name, "state": "absent"} for name in sorted(removed)]
        return result, tenants, secrets_out

    # -------------------------------------------------------------- pipelines
    def converge_pipelines(self):
        self._read(PIPELINE_KINDS)
        removed_orgs = {name for name, org in self.organizations.items() if org.get("state") == "absent"}
        desired = []
        present = [p for name, p in self.pipelines.items() if p.get("state", "present") == "present"
                   and p["organization"] not in removed_orgs]
        for pipeline in present:
            secret = self._webhook_secret(pipeline["organization"])
            if secret is None:
                if not self.check_mode:
                    raise TenancyError(f"pipeline '{pipeline['name']}': organization '{pipeline['organization']}' "
                                       "is not onboarded yet (run aphex.platform.organization first)")
                secret = ""  # previewing a fresh cluster: the organization would create it first
            document = pipeline["pipeline"]
            document = yaml_load(document) if isinstance(document, str) else document
            desired += render_pipeline(pipeline, document, secret, self.settings)

        removed = self._removed_pipelines()
        deletions = self._deletions(OWNER_PIPELINE, removed) + self._applications_of(removed)
        deletions += self._stale(OWNER_PIPELINE, [p["name"] for p in present], desired)
        result = plan(desired, self.live, deletions)
        execute(self.api, result, self.check_mode, self._missing_namespaces(desired))
        tenants = [{"name": p["name"], "state": "present", "organization": p["organization"],
                    "namespace": p["name"]} for p in present]
        tenants += [{"name": name, "state": "absent"} for name in sorted(removed)]
        return result, tenants


def run(api_factory, organizations, pipelines, settings, prune, check_mode, what):
    """The two modules' shared entry point: validate, connect, converge."""
    validate_tenants(organizations, pipelines, settings.quota)
    tenancy = Tenancy(api_factory(), organizations, pipelines, settings, prune, check_mode)
    if what == "organizations":
        return tenancy.converge_organizations()
    result, tenants = tenancy.converge_pipelines()
    return result, tenants, {}
