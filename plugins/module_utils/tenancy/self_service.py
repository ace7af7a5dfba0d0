# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenants created with kubectl: an Organization or RepoBinding read as the inventory entry onboard.yml would have
been given, converged by the same code (converge.py) under the controller's driver mark, and the status to write
back. The tenant controller (controller/handlers.py) is only the Kopf side of this: which events call what here,
and how a SelfServiceError becomes a retry.

An organization created with kubectl is converged here with its RepoBindings; an organization of the inventory with
onboard.yml with its inventory pipelines (docs/architecture.md, "Two drivers"). A RepoBinding lives in its
organization's namespace, where that organization's admins may write it (files/rbac/organization-admin.yaml)."""

from __future__ import annotations

import re
import socket
import threading
from datetime import datetime, timezone

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    APHEX_V1ALPHA1,
    DRIVER_CONTROLLER,
    LABEL_DRIVER,
    LABEL_MANAGED_BY,
    LABEL_ORGANIZATION,
    LABEL_REPO,
    MANAGED_BY,
    TEKTON_V1,
    org_namespace,
    repo_label_value,
)
from ansible_collections.aphex.platform.plugins.module_utils.quantity import quantity
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import onboarded_message
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError

ORGANIZATION = (APHEX_V1ALPHA1, "Organization")
REPO_BINDING = (APHEX_V1ALPHA1, "RepoBinding")
# What the controller marks a kubectl tenant's own object with when it first converges it: the inventory's
# onboarding reads it then as another driver's (converge.py refuses to write over it).
CONTROLLER_LABELS = {LABEL_MANAGED_BY: MANAGED_BY, LABEL_DRIVER: DRIVER_CONTROLLER}
# The admission policy aphex-tenant-repobindings' parameter (files/rbac/tenant-repobindings-binding.yaml).
QUOTA_CONFIGMAP = "aphex-tenant-quota"
# The run lock is taken for a reconcile that writes, for at most this long: a controller killed mid-write frees it
# for onboard.yml soon after.
LOCK_SECONDS = 60
RETRY_SECONDS = 10.0
LOCK_RETRY_SECONDS = 3.0
# The inventory's field names in validation.py's messages, as a RepoBinding or Organization spells them.
PIPELINE_FIELDS = {"name": "metadata.name", "organization": "spec.aphexOrg", "repo": "spec.repoOrg/repoName",
                   "pipeline": "spec.pipelineSpec", "quota": "spec.quota", "pull_requests": "spec.pullRequests",
                   "state": "metadata.deletionTimestamp"}
ORG_FIELDS = {"name": "metadata.name", "display_name": "spec.displayName", "admin_users": "spec.adminUsers",
              "state": "metadata.deletionTimestamp"}
INVENTORY_FIELD = re.compile(r"^aphex_(organizations|pipelines)\[[^\]]*\]\.([a-z_]+)")


class SelfServiceError(AphexError):
    """Why a tenant is not Ready: REASON becomes its conditions' reason; RETRY how many seconds until the controller
    tries again (None: not before the object changes - its spec is what is wrong)."""

    def __init__(self, reason: str, message: str, retry: float | None = RETRY_SECONDS, waiting: bool = False):
        super().__init__(message)
        self.reason = reason
        self.retry = retry
        self.waiting = waiting  # on something that comes by itself (the run lock, its organization): phase Pending


def _labels(body: dict) -> dict:
    return (body.get("metadata") or {}).get("labels") or {}


def self_service(body: dict) -> bool:
    """Whether the controller owns this Organization or RepoBinding: created with kubectl (no platform label), or
    already marked as the controller's. The inventory's records carry the managed-by label alone."""
    labels = _labels(body)
    return labels.get(LABEL_DRIVER) == DRIVER_CONTROLLER or LABEL_MANAGED_BY not in labels


def _spec_problems(problems, fields: dict) -> str:
    """validation.py's problems in the custom resource's own field names."""
    def renamed(problem: str) -> str:
        match = INVENTORY_FIELD.match(problem)
        if not match:
            return problem
        return fields.get(match.group(2), f"spec.{match.group(2)}") + problem[match.end():]
    return "; ".join(renamed(problem) for problem in problems)


def invalid_spec(error: TenantValidationError, kind: str) -> SelfServiceError:
    fields = ORG_FIELDS if kind == "Organization" else PIPELINE_FIELDS
    return SelfServiceError("InvalidSpec", _spec_problems(error.problems, fields), retry=None)


def organization_entry(body: dict) -> dict:
    """An Organization as an entry of aphex_organizations."""
    spec = body.get("spec") or {}
    return {"name": body["metadata"]["name"], "display_name": spec.get("displayName"),
            "admin_users": list(spec.get("adminUsers") or [])}


def quota_ceiling_problems(quota: dict, ceiling: dict) -> list:
    """A RepoBinding may ask for less than the platform's quota for a pipeline, never more, and only for what the
    platform's quota limits (what it leaves unlimited is not the tenant's to open)."""
    problems = []
    for key, value in (quota or {}).items():
        amount, most = quantity(value), quantity(ceiling.get(key)) if key in ceiling else None
        if key not in ceiling:
            problems.append(f"spec.quota.{key}: the platform sets no quota for {key}, so a RepoBinding cannot "
                            f"either (it may lower: {', '.join(sorted(ceiling))})")
        elif amount is not None and most is not None and amount > most:
            problems.append(f"spec.quota.{key}: '{value}' is more than the platform allows a pipeline "
                            f"('{ceiling[key]}')")
    return problems


def pipeline_entry(body: dict, default_pipeline: dict, quota_ceiling: dict) -> dict:
    """A RepoBinding as an entry of aphex_pipelines: its pipeline is spec.pipelineSpec, else the platform's
    default (the catalog's build-and-deploy-v1). Checks what only a RepoBinding can get wrong; validation.py the
    rest."""
    metadata, spec = body["metadata"], body.get("spec") or {}
    name, org = metadata["name"], spec.get("aphexOrg")
    problems = []
    if spec.get("pipelineName") != name:
        problems.append(f"spec.pipelineName: '{spec.get('pipelineName')}' must equal metadata.name ('{name}'): "
                        "it names the pipeline's namespace")
    if org and metadata.get("namespace") != org_namespace(org):
        problems.append(f"metadata.namespace: a RepoBinding of organization '{org}' lives in namespace "
                        f"'{org_namespace(org)}', not '{metadata.get('namespace')}'")
    problems += quota_ceiling_problems(spec.get("quota") or {}, quota_ceiling)
    if problems:
        raise SelfServiceError("InvalidSpec", "; ".join(problems), retry=None)
    document = ({"apiVersion": TEKTON_V1, "kind": "Pipeline", "spec": spec["pipelineSpec"]}
                if spec.get("pipelineSpec") else default_pipeline)
    entry = {"name": name, "organization": org, "repo": f"{spec.get('repoOrg')}/{spec.get('repoName')}",
             "pipeline": document, "pull_requests": spec.get("pullRequests", "trusted")}
    if spec.get("quota"):
        entry["quota"] = dict(spec["quota"])
    return entry


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, true: bool, reason: str, message: str, generation, previous: dict) -> dict:
    status = "True" if true else "False"
    old = previous.get(kind) or {}
    since = old.get("lastTransitionTime") if old.get("status") == status and old.get("lastTransitionTime") else _now()
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": since}


def status(body: dict, ready: bool, reason: str, message: str, waiting: bool = False, **fields) -> dict:
    """The status the object should have: phase (Ready; Pending while WAITING for something that will come by
    itself, Failed otherwise), observedGeneration, the conditions Ready and Degraded (their transition times kept
    while they hold), and FIELDS (namespace, webhookURL)."""
    generation = (body.get("metadata") or {}).get("generation")
    previous = {c.get("type"): c for c in ((body.get("status") or {}).get("conditions") or [])}
    phase = "Ready" if ready else "Pending" if waiting else "Failed"
    return {"phase": phase, "message": message, "observedGeneration": generation,
            "conditions": [_condition("Ready", ready, reason, message, generation, previous),
                           _condition("Degraded", not ready, reason, message if not ready else "", generation,
                                      previous)],
            **fields}


def status_changed(body: dict, wanted: dict) -> bool:
    """Whether writing WANTED changes the object's status (transition times aside: they follow the rest)."""
    current = body.get("status") or {}

    def comparable(value: dict) -> dict:
        conditions = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in value.get("conditions") or []]
        return {**{k: v for k, v in value.items() if k in wanted}, "conditions": conditions}
    return comparable(current) != comparable(wanted)


class Reconciler:
    """Converges one kubectl tenant at a time with converge.py, under the cluster's run lock when it writes.

    API: a ClusterApi with the controller's identity; SETTINGS: the platform's TenancySettings (the same the tenants
    role gives the modules); DEFAULT_PIPELINE: the Tekton Pipeline a RepoBinding without pipelineSpec runs;
    TUNNEL: converge(organization, state) of its Cloudflare tunnel, when the platform has tunnels (settings.tunnels)."""

    def __init__(self, api, settings, default_pipeline: dict, holder: str | None = None, tunnel=None):
        self.api = api
        self.settings = settings
        self.default_pipeline = default_pipeline
        self.tunnel = tunnel
        self.holder = holder or f"aphex-tenant-controller/{socket.gethostname()}"
        # one reconcile at a time in this process: they share the run lock, and would only wait for each other
        self._one_at_a_time = threading.Lock()

    def publish_quota(self) -> None:
        """Write the platform's quota for a pipeline where the admission policy aphex-tenant-repobindings reads it
        (its parameter): the ceiling of a RepoBinding's spec.quota is the controller's own, one fact in one place."""
        self.api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": QUOTA_CONFIGMAP, "namespace": self.settings.platform_namespace,
                                     "labels": {LABEL_MANAGED_BY: MANAGED_BY}},
                        "data": {key: str(value) for key, value in self.settings.quota.items()}})

    # ------------------------------------------------------------- converging
    def _converge(self, organizations, pipelines, what, org: str, plan_first: bool = True):
        """converge.run for one organization's objects under the run lock. PLAN_FIRST (the drift timer's rounds,
        most of which find nothing): a plan that sends nothing first, and the lock and the real pass only when it
        finds something to write, so a reconcile at rest sends reads only. A change or a deletion goes straight to
        the lock and the real pass (it would write: the plan would read everything twice)."""
        from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import LockError, RunLock
        from ansible_collections.aphex.platform.plugins.module_utils.tenancy.converge import run

        def converge(plan_only, before_writes=None):
            return run(lambda: self.api, organizations, pipelines, self.settings, False, plan_only, what,
                       before_writes=before_writes, driver=DRIVER_CONTROLLER,
                       scope_selector=f"{LABEL_ORGANIZATION}={org}", plan_only=plan_only)

        if plan_first:
            planned = converge(True)[0]
            if not planned.changed:
                return planned
        lock = RunLock(self.api, self.holder, lease_seconds=LOCK_SECONDS)
        try:
            lock.acquire(timeout=0)
        except LockError as error:
            raise SelfServiceError("WaitingForRunLock", str(error), retry=LOCK_RETRY_SECONDS, waiting=True) from None
        try:
            return converge(False, lambda api: lock.check())[0]
        finally:
            lock.release()

    def _guarded(self, kind: str, work):
        with self._one_at_a_time:
            try:
                return work()
            except TenantValidationError as error:
                raise invalid_spec(error, kind) from None
            except SelfServiceError:
                raise
            except AphexError as error:
                raise SelfServiceError("ConvergeFailed", str(error)) from None

    # ------------------------------------------------------------ organizations
    def organization(self, body: dict, drift: bool = False) -> dict:
        """Converge an Organization, and its tunnel unless this is the DRIFT timer's round (Cloudflare's API is not
        asked every interval for every organization); its status when Ready (SelfServiceError otherwise)."""
        entry = organization_entry(body)

        def work():
            self._converge([entry], [], "organizations", entry["name"], plan_first=drift)
            if self.tunnel and not drift:
                self.tunnel(entry["name"], "present")
            return self._ready_organization(body, entry["name"])
        return self._guarded("Organization", work)

    def _ready_organization(self, body: dict, name: str) -> dict:
        return status(body, True, "Converged", onboarded_message(name, self.settings), namespace=org_namespace(name),
                      webhookURL=self.settings.webhook_url(name))

    def delete_organization(self, body: dict) -> None:
        """Remove an Organization's objects; refused while RepoBindings remain in its namespace."""
        name = body["metadata"]["name"]
        bindings = [b["metadata"]["name"] for b in self.api.list(*REPO_BINDING, namespace=org_namespace(name))]
        if bindings:
            raise SelfServiceError("HasRepoBindings", f"organization '{name}' still has RepoBindings "
                                   f"{', '.join(sorted(bindings))} in {org_namespace(name)}: delete them first")

        def work():
            self._converge([{"name": name, "state": "absent"}], [], "organizations", name, plan_first=False)
            if self.tunnel:
                self.tunnel(name, "absent")  # its DNS record, configuration and tunnel, after what used it
        self._guarded("Organization", work)

    # --------------------------------------------------------------- pipelines
    def _organization_of(self, body: dict) -> dict:
        """The RepoBinding's organization as an inventory entry, once it is a Ready kubectl organization."""
        org = (body.get("spec") or {}).get("aphexOrg")
        found = self.api.get(*ORGANIZATION, org, self.settings.platform_namespace)
        if not found:
            raise SelfServiceError("OrganizationNotFound", f"spec.aphexOrg: there is no Organization '{org}' "
                                   f"(kubectl get organizations -n {self.settings.platform_namespace})")
        if not self_service(found):
            raise SelfServiceError("OrganizationManagedByInventory", f"spec.aphexOrg: organization '{org}' is "
                                   "onboarded from the inventory (onboard.yml), so are its pipelines: add this one "
                                   "to aphex_pipelines instead", retry=None)
        if (found.get("status") or {}).get("phase") != "Ready" or found["metadata"].get("deletionTimestamp"):
            raise SelfServiceError("OrganizationNotReady", f"organization '{org}' is not Ready yet", waiting=True)
        return organization_entry(found)

    def _refuse_bound_repository(self, entry: dict) -> None:
        """A repository is bound to one pipeline: its namespace carries the repository label (one LIST)."""
        value = repo_label_value(entry["repo"])
        others = sorted(ns["metadata"]["name"] for ns in self.api.list("v1", "Namespace", f"{LABEL_REPO}={value}")
                        if ns["metadata"]["name"] != entry["name"])
        if others:
            raise SelfServiceError("RepositoryAlreadyBound", f"spec.repoOrg/repoName: {entry['repo']} is already "
                                   f"bound to pipeline {', '.join(others)}", retry=None)

    def repo_binding(self, body: dict, drift: bool = False) -> dict:
        """Converge a RepoBinding, then its organization (whose EventListener serves the pipeline's namespace)."""
        entry = pipeline_entry(body, self.default_pipeline, self.settings.quota)

        def work():
            org = self._organization_of(body)
            self._refuse_bound_repository(entry)
            # The organization's EventListener serves the pipeline's namespace: converged again when the pipeline
            # changed (its own timer repairs the rest of its drift), so a RepoBinding at rest costs its own reads only.
            if self._converge([org], [entry], "pipelines", org["name"], plan_first=drift).changed:
                self._converge([org], [], "organizations", org["name"], plan_first=False)
            return status(body, True, "Converged", "Pipeline onboarded", namespace=entry["name"],
                          webhookURL=self.settings.webhook_url(org["name"]))
        return self._guarded("RepoBinding", work)

    def delete_repo_binding(self, body: dict) -> None:
        """Remove a RepoBinding's pipeline, and its namespace from its organization's EventListener."""
        metadata, spec = body["metadata"], body.get("spec") or {}
        org, name = spec.get("aphexOrg"), metadata["name"]
        if metadata.get("namespace") != org_namespace(org or ""):
            return  # never converged (refused for its namespace): nothing of it exists

        def work():
            found = self.api.get(*ORGANIZATION, org, self.settings.platform_namespace)
            org_entry = organization_entry(found) if found and self_service(found) else {"name": org}
            self._converge([org_entry], [{"name": name, "organization": org, "state": "absent"}], "pipelines", org,
                           plan_first=False)
            if found and self_service(found) and "display_name" in org_entry:
                self._converge([org_entry], [], "organizations", org, plan_first=False)
        self._guarded("RepoBinding", work)
