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
import time
from functools import partial

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    APHEX_V1ALPHA1,
    APPLICATION,
    DRIVER_CONTROLLER,
    DRIVER_INVENTORY,
    LABEL_DRIVER,
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
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import describe, execute, object_key, plan
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
    APPLY_ORDER,
    ORGANIZATION_KINDS,
    PIPELINE_KINDS,
    WEBHOOK_SECRET_NAME,
    render_organization,
    render_pipeline,
)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import parsed_pipeline, validate_tenants

MANAGED_SELECTOR = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
# A prune may remove one tenant, or up to this share of the managed tenants, without prune_confirm: more looks like
# an inventory that was not loaded (a renamed host, a missing host_vars file) rather than a decision.
PRUNE_UNCONFIRMED_SHARE = 0.1
DELETION_POLL_SECONDS = 1.0


class TenancyError(AphexError):
    """A problem with the request as a whole, found before any write."""


def _labels(obj: dict) -> dict:
    return obj.get("metadata", {}).get("labels") or {}


def _owned_by(obj: dict, kind: str, names) -> bool:
    """Whether one of the named tenants (a set) of that kind owns the object. Not an object another controller
    made: Tekton Triggers copies an EventListener's labels, ours included, onto the Deployment and Service it runs
    the listener with - those belong to their controller (its ownerReference), never to be pruned here."""
    labels = _labels(obj)
    return (labels.get(LABEL_OWNER_KIND) == kind and labels.get(LABEL_OWNER_NAME) in names
            and not any(reference.get("controller") for reference in obj["metadata"].get("ownerReferences") or []))


def _terminating(obj) -> bool:
    return bool(obj and obj.get("metadata", {}).get("deletionTimestamp"))


def new_webhook_secret() -> str:
    """64 hex characters, base64-encoded as Secret data."""
    return base64.b64encode(secrets.token_hex(32).encode()).decode()


def _present(entry: dict) -> bool:
    return entry.get("state", "present") == "present"


def driver_of(obj: dict) -> str:
    """The driver that owns a managed object (naming.LABEL_DRIVER; the inventory's objects carry none)."""
    return _labels(obj).get(LABEL_DRIVER) or DRIVER_INVENTORY


class Tenancy:
    def __init__(self, api, organizations, pipelines, settings, prune=False, check_mode=False, prune_confirm=0,
                 deletion_timeout=120, driver=DRIVER_INVENTORY, scope_selector=None, plan_only=False):
        """DRIVER: who converges (DRIVER_INVENTORY: onboard.yml; DRIVER_CONTROLLER: the tenant controller, one
        tenant at a time, which writes no records - an Organization or RepoBinding it converges is the user's
        own object). Managed objects of the other driver are read as `foreign`: never planned, and a desired
        object among them is refused. SCOPE_SELECTOR narrows every read (the controller: one organization).
        PLAN_ONLY (with check_mode): decide what would change and send nothing, not even dry runs."""
        self.api = api
        self.settings = settings
        self.organizations = {org["name"]: org for org in organizations}
        self.pipelines = {pipeline["name"]: pipeline for pipeline in pipelines}
        self.prune = prune
        self.check_mode = check_mode
        self.prune_confirm = prune_confirm
        self.deletion_timeout = deletion_timeout
        self.driver = driver
        self.plan_only = plan_only
        self.selector = f"{MANAGED_SELECTOR},{scope_selector}" if scope_selector else MANAGED_SELECTOR
        self.foreign = {}
        self.live = {}
        self.kinds_read = set()
        self.webhook_secrets = {}
        self.warnings = []

    # ------------------------------------------------------------------ reads
    def _read(self, kinds, webhook_secrets=False) -> None:
        self.live, self.foreign, self.kinds_read = {}, {}, set()
        self._read_more(kinds)
        if webhook_secrets:
            # Every organization's webhook Secret, labelled or not: one that lost its labels is adopted, not
            # overwritten (one LIST, whatever the number of organizations; the controller's, in its one namespace).
            only = org_namespace(next(iter(self.organizations))) if self.driver == DRIVER_CONTROLLER else None
            self.webhook_secrets = {
                obj["metadata"]["namespace"]: obj
                for obj in self.api.list("v1", "Secret", field_selector=f"metadata.name={WEBHOOK_SECRET_NAME}",
                                         namespace=only)}

    def _read_more(self, kinds) -> None:
        """Add the managed objects of these kinds (one LIST each) to what was read."""
        self.api.require(kinds)
        unread = [api_kind for api_kind in dict.fromkeys(kinds) if api_kind not in self.kinds_read]
        self.kinds_read.update(unread)
        # the server encodes one answer while this process decodes another
        answers = self.api.concurrently(partial(self.api.list, api_version, kind, self.selector)
                                        for api_version, kind in unread)
        for objects in answers:
            for obj in objects:
                (self.live if driver_of(obj) == self.driver else self.foreign)[object_key(obj)] = obj

    # ----------------------------------------------------------------- drivers
    def _as_driver(self, desired: list) -> list:
        """The desired objects as this driver writes them, after refusing any the other driver owns. The
        controller marks what it writes as its own and leaves the records alone: the Organization or RepoBinding
        it converges is the user's object, whose status it writes itself."""
        taken = [key for key in map(object_key, desired) if key in self.foreign]
        if taken:
            other = "onboard.yml (the inventory)" if self.driver == DRIVER_CONTROLLER else \
                "the tenant controller (created with kubectl)"
            raise TenancyError(f"{', '.join(describe(key) for key in taken[:5])}"
                               f"{f' and {len(taken) - 5} more' if len(taken) > 5 else ''} already belong to a "
                               f"tenant managed by {other}; a tenant is owned by one driver only: choose another "
                               "name, or remove it there first")
        if self.driver == DRIVER_INVENTORY:
            return desired
        owned = []
        for manifest in desired:
            if manifest["apiVersion"] == APHEX_V1ALPHA1:
                continue
            metadata = manifest["metadata"]
            labels = {**metadata.get("labels", {}), LABEL_DRIVER: DRIVER_CONTROLLER}
            owned.append({**manifest, "metadata": {**metadata, "labels": labels}})
        self._refuse_unmanaged_namespaces(owned)
        return owned

    def _refuse_unmanaged_namespaces(self, desired) -> None:
        """The controller creates its tenants' namespaces, never adopts one: a RepoBinding named after an existing
        namespace would otherwise hand its organization that namespace (one GET for each namespace it does not
        manage yet, none at rest)."""
        for manifest in desired:
            key = object_key(manifest)
            if key[1] == "Namespace" and key not in self.live and self.api.get("v1", "Namespace", key[3]):
                raise TenancyError(f"namespace '{key[3]}' already exists and is not managed by the tenant "
                                   "controller; choose another name")

    def _gone(self, key) -> bool:
        """Whether a live object, or the namespace it lives in, is being deleted."""
        namespace = key[2]
        return _terminating(self.live.get(key)) or bool(
            namespace and _terminating(self.live.get(("v1", "Namespace", "", namespace))))

    def _live_tenants(self, owner_kind: str) -> dict:
        """Managed tenants found in the cluster and not on their way out: name -> organization."""
        found = {}
        for key, obj in self.live.items():
            labels = _labels(obj)
            if labels.get(LABEL_OWNER_KIND) == owner_kind and not self._gone(key):
                found[labels.get(LABEL_OWNER_NAME)] = labels.get(LABEL_ORGANIZATION)
        return found

    def _unlisted(self, owner_kind: str, listed) -> list:
        return sorted(set(self._live_tenants(owner_kind)) - set(listed))

    def _removed_pipelines(self) -> set:
        removed = {name for name, pipeline in self.pipelines.items() if not _present(pipeline)}
        if self.prune:
            removed |= set(self._unlisted(OWNER_PIPELINE, self.pipelines))
        return removed

    def _deletions(self, owner_kind: str, names) -> list:
        """Live keys owned by the named tenants; objects inside a namespace being deleted go with it."""
        names = set(names)
        keys = [key for key, obj in self.live.items() if _owned_by(obj, owner_kind, names)]
        if owner_kind == OWNER_ORGANIZATION:  # a removed organization takes its pipelines' objects along
            owned = set(keys)
            keys += [key for key, obj in self.live.items() if key not in owned
                     and _labels(obj).get(LABEL_ORGANIZATION) in names]
        namespaces = {key[3] for key in keys if key[1] == "Namespace"}
        return [key for key in keys if key[2] not in namespaces and not _terminating(self.live[key])]

    def _applications_of(self, pipelines) -> list:
        """ArgoCD Applications in ArgoCD's namespace deployed by the removed pipelines (labelled, not created by
        us). Applications in a pipeline's own namespace go with the namespace."""
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
        names = set(names)
        return [key for key, obj in self.live.items() if key not in wanted and not self._gone(key)
                and _owned_by(obj, owner_kind, names)]

    def _missing_namespaces(self, desired) -> set:
        """Namespaces the desired objects live in that do not exist (yet): check mode cannot dry-run there."""
        existing = {key[3] for key, obj in self.live.items() if key[1] == "Namespace" and not _terminating(obj)}
        existing |= {self.settings.platform_namespace, self.settings.argocd_namespace}
        return {m["metadata"].get("namespace") or m["metadata"]["name"] for m in desired} - existing

    # ------------------------------------------------------------- deletions
    def _being_deleted(self, desired) -> list:
        """Desired objects that exist only until a deletion in progress finishes (theirs or their namespace's)."""
        return [key for key in map(object_key, desired) if self._gone(key)]

    def _settle(self, converge):
        """Run converge() on a cluster where no desired object is still being deleted.

        An object with a deletionTimestamp is not converged: it will be gone in a moment, taking the run's
        "unchanged" with it. Check mode previews such objects as created; otherwise the run waits (bounded) for
        the deletions to finish and converges again on what is left.
        """
        deadline = time.monotonic() + self.deletion_timeout
        while True:
            desired, finish = converge()
            pending = self._being_deleted(desired)
            if not pending:
                return finish(desired, set())
            if self.check_mode:
                for key in pending:
                    self.live.pop(key, None)
                return finish(desired, {key[3] if key[1] == "Namespace" else key[2] for key in pending})
            if time.monotonic() >= deadline:
                raise TenancyError(
                    f"still being deleted after {self.deletion_timeout} s, so they cannot be created again yet: "
                    + ", ".join(describe(key) for key in pending[:20])
                    + (f" and {len(pending) - 20} more" if len(pending) > 20 else "")
                    + "; run again once the deletion has finished (kubectl get namespace shows Terminating)")
            self._wait_deleted(pending, deadline)

    def _wait_deleted(self, keys, deadline) -> None:
        """Poll until each object is gone; for objects in a terminating namespace, until the namespace is."""
        targets = []
        for key in keys:
            namespace_key = ("v1", "Namespace", "", key[2])
            target = namespace_key if key[2] and _terminating(self.live.get(namespace_key)) else key
            if target not in targets:
                targets.append(target)
        for api_version, kind, namespace, name in targets:
            while time.monotonic() < deadline and self.api.get(api_version, kind, name, namespace or None):
                time.sleep(DELETION_POLL_SECONDS)

    # ------------------------------------------------------------------ prune
    def _check_prune(self, organizations, pipelines) -> None:
        """Refuse a prune that looks like a lost inventory rather than a decision, naming what would go."""
        count = len(organizations) + len(pipelines)
        if not count:
            return
        live = len(self._live_tenants(OWNER_ORGANIZATION)) + len(self._live_tenants(OWNER_PIPELINE))
        allowed = max(1, int(live * PRUNE_UNCONFIRMED_SHARE))
        empty = not self.organizations and not self.pipelines
        if (count <= allowed and not empty) or count <= self.prune_confirm:
            return
        why = ("the inventory lists no tenants at all" if empty
               else f"that is more than {int(PRUNE_UNCONFIRMED_SHARE * 100)}% of the {live} managed tenants")
        raise TenancyError(
            f"refusing to prune {count} tenant(s) missing from the inventory: {why}. It would remove "
            f"organizations: {', '.join(sorted(organizations)) or 'none'}; "
            f"pipelines: {', '.join(sorted(pipelines)) or 'none'}. If the inventory is complete and this is "
            f"intended, run again with -e aphex_prune_confirm={count}")

    def _pruned_pipelines_of_listed_orgs(self) -> set:
        live = self._live_tenants(OWNER_PIPELINE)
        return {name for name in self._unlisted(OWNER_PIPELINE, self.pipelines) if live[name] in self.organizations}

    # ---------------------------------------------------------- organizations
    def _webhook_secret(self, name: str, org: dict) -> str:
        """The organization's webhook secret: kept, adopted or restored whenever a value exists; new only when
        none exists anywhere or rotation is asked for."""
        if org.get("rotate_webhook_secret", False):
            return new_webhook_secret()
        namespace = org_namespace(name)
        where = f"Secret {namespace}/{WEBHOOK_SECRET_NAME}"
        live = self.webhook_secrets.get(namespace)
        value = ((live or {}).get("data") or {}).get("secret")
        if value and not _terminating(live):
            if _labels(live).get(LABEL_MANAGED_BY) != MANAGED_BY:
                self.warnings.append(f"organization '{name}': adopted the existing webhook {where}, which was not "
                                     "labelled as managed by the platform; its value is kept")
            return value
        copies = {key[2]: (obj.get("data") or {}).get("secret") for key, obj in self.live.items()
                  if key[1] == "Secret" and key[3] == WEBHOOK_SECRET_NAME and _owned_by_pipeline_of(obj, name)
                  and not self._gone(key) and (obj.get("data") or {}).get("secret")}
        if len(set(copies.values())) == 1:
            self.warnings.append(f"organization '{name}': the webhook {where} was missing; restored from its "
                                 f"pipelines' copies ({', '.join(sorted(copies))}) so GitHub's webhooks keep working")
            return next(iter(copies.values()))
        if copies:
            raise TenancyError(f"organization '{name}': the webhook {where} is missing and its pipelines' copies "
                               f"disagree ({', '.join(sorted(copies))}); set rotate_webhook_secret: true on the "
                               "organization to generate a new one (then update its GitHub webhooks)")
        if live is not None and not _terminating(live):
            self.warnings.append(f"organization '{name}': the webhook {where} had no value; a new one was generated")
        return new_webhook_secret()

    def _hooked_pipelines(self, org: str, live_pipelines: dict) -> list:
        """Namespaces the organization's EventListener serves: its present pipelines, and, without prune, those
        in the cluster (live_pipelines: name -> organization) that the inventory does not list (left as they are)."""
        names = {p for p, entry in self.pipelines.items() if entry.get("organization") == org and _present(entry)}
        if not self.prune:
            names |= {p for p, owner in live_pipelines.items() if owner == org and p not in self.pipelines}
        return sorted(names)

    def _organizations_plan(self):
        present = {name: org for name, org in self.organizations.items() if _present(org)}
        removed = {name for name, org in self.organizations.items() if not _present(org)}
        pruned = set(self._unlisted(OWNER_ORGANIZATION, self.organizations)) if self.prune else set()
        if self.prune:
            self._check_prune(pruned, {p for p, owner in self._live_tenants(OWNER_PIPELINE).items()
                                       if owner in pruned} | self._pruned_pipelines_of_listed_orgs())
        # An organization removed by its entry keeps its pipelines unless they are removed by theirs, or the
        # entry says cascade (pipelines merely missing from the inventory do not count, prune or not).
        explicitly_removed = {name for name, entry in self.pipelines.items() if not _present(entry)}
        live_pipelines = self._live_tenants(OWNER_PIPELINE)
        blocked = []
        for org in sorted(removed):
            remaining = sorted(p for p, owner in live_pipelines.items() if owner == org and p not in explicitly_removed)
            if remaining and not self.organizations[org].get("cascade", False):
                blocked.append(f"organization '{org}' still has pipelines {', '.join(remaining)}: remove them first "
                               "or set cascade: true on the organization")
        if blocked:
            raise TenancyError("; ".join(blocked))
        removed |= pruned
        if removed:
            # a removed organization takes its pipelines' objects along: only then are their kinds read (the
            # pipelines' namespaces, read with the organizations' kinds, say which tenants exist)
            self._read_more(PIPELINE_KINDS)

        desired, secrets_out = [], {}
        for name, org in present.items():
            secret = self._webhook_secret(name, org)
            secrets_out[name] = secret
            desired += render_organization(org, self._hooked_pipelines(name, live_pipelines), secret, self.settings)
        desired = self._as_driver(desired)
        removed_org_pipelines = {p for p, owner in live_pipelines.items() if owner in removed}

        def finish(desired, previewed_namespaces):
            deletions = self._deletions(OWNER_ORGANIZATION, removed) + self._stale(OWNER_ORGANIZATION, present, desired)
            deletions += self._applications_of(removed_org_pipelines)
            result = plan(desired, self.live, deletions, create_only=self._new_webhook_secrets(desired), order=APPLY_ORDER)
            if not self.plan_only:
                execute(self.api, result, self.check_mode, self._missing_namespaces(desired) | previewed_namespaces)
            tenants = [{"name": name, "state": "present", "namespace": org_namespace(name),
                        "webhook_url": self.settings.webhook_url(name)} for name in present]
            tenants += [{"name": name, "state": "absent"} for name in sorted(removed)]
            return result, tenants, secrets_out
        return desired, finish

    def _new_webhook_secrets(self, desired) -> set:
        """Webhook Secrets this run creates: created with POST, so that one another run created meanwhile is
        never overwritten (the create fails instead)."""
        return {object_key(m) for m in desired if m["kind"] == "Secret" and m["metadata"]["name"] == WEBHOOK_SECRET_NAME
                and m["metadata"]["namespace"].startswith("org-") and object_key(m) not in self.live
                and m["metadata"]["namespace"] not in self.webhook_secrets}

    def converge_organizations(self):
        def converge():
            self._read(ORGANIZATION_KINDS, webhook_secrets=True)
            self.warnings = []
            return self._organizations_plan()
        return self._settle(converge)

    # -------------------------------------------------------------- pipelines
    def _pipelines_plan(self):
        removed_orgs = {name for name, org in self.organizations.items() if not _present(org)}
        if self.prune:
            self._check_prune(set(), self._pruned_pipelines_of_listed_orgs())
        desired = []
        present = [p for name, p in self.pipelines.items() if _present(p) and p["organization"] not in removed_orgs]
        for pipeline in present:
            org_secret = self.live.get(("v1", "Secret", org_namespace(pipeline["organization"]), WEBHOOK_SECRET_NAME))
            secret = None if _terminating(org_secret) else ((org_secret or {}).get("data") or {}).get("secret")
            if secret is None:
                if not self.check_mode:
                    raise TenancyError(f"pipeline '{pipeline['name']}': organization '{pipeline['organization']}' "
                                       "is not onboarded yet (run aphex.platform.organization first)")
                secret = ""  # previewing a fresh cluster: the organization would create it first
            document = pipeline["pipeline"]
            document = parsed_pipeline(document) if isinstance(document, str) else document
            admins = (self.organizations.get(pipeline["organization"]) or {}).get("admin_users") or ()
            desired += render_pipeline(pipeline, document, secret, self.settings, admins)
        desired = self._as_driver(desired)
        removed = self._removed_pipelines()

        def finish(desired, previewed_namespaces):
            deletions = self._deletions(OWNER_PIPELINE, removed) + self._applications_of(removed)
            deletions += self._stale(OWNER_PIPELINE, [p["name"] for p in present], desired)
            result = plan(desired, self.live, deletions, order=APPLY_ORDER)
            if not self.plan_only:
                execute(self.api, result, self.check_mode, self._missing_namespaces(desired) | previewed_namespaces)
            tenants = [{"name": p["name"], "state": "present", "organization": p["organization"],
                        "namespace": p["name"]} for p in present]
            tenants += [{"name": name, "state": "absent"} for name in sorted(removed)]
            return result, tenants
        return desired, finish

    def converge_pipelines(self):
        def converge():
            self._read(PIPELINE_KINDS)
            return self._pipelines_plan()
        return self._settle(converge)

    def unlisted(self) -> dict:
        """Tenants in the cluster that the inventory does not list (left alone without prune)."""
        if self.prune:
            return {"organizations": [], "pipelines": []}
        return {"organizations": self._unlisted(OWNER_ORGANIZATION, self.organizations),
                "pipelines": self._unlisted(OWNER_PIPELINE, self.pipelines)}


def _owned_by_pipeline_of(obj: dict, org: str) -> bool:
    labels = _labels(obj)
    return labels.get(LABEL_OWNER_KIND) == OWNER_PIPELINE and labels.get(LABEL_ORGANIZATION) == org


def run(api_factory, organizations, pipelines, settings, prune, check_mode, what, prune_confirm=0,
        deletion_timeout=120, before_writes=None, driver=DRIVER_INVENTORY, scope_selector=None, plan_only=False):
    """The two modules' shared entry point: validate, connect, converge.

    Returns (plan, tenants, webhook secrets, warnings, unlisted tenants). before_writes(api), when given, runs
    after validation and before the first read (the run lock's check).
    """
    organizations, pipelines = validate_tenants(organizations, pipelines, settings.quota, subject=what)
    api = api_factory()
    if before_writes is not None:
        before_writes(api)
    tenancy = Tenancy(api, organizations, pipelines, settings, prune, check_mode, prune_confirm, deletion_timeout,
                      driver, scope_selector, plan_only)
    if what == "organizations":
        result, tenants, webhook_secrets = tenancy.converge_organizations()
    else:
        (result, tenants), webhook_secrets = tenancy.converge_pipelines(), {}
    return result, tenants, webhook_secrets, tenancy.warnings, tenancy.unlisted()
