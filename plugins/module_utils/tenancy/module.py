# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the organization and pipeline modules (run by module_utils/runner.py): their tenancy arguments,
the settings they make, one converge, and the result."""

from __future__ import annotations

import gc

from ansible_collections.aphex.platform.plugins.module_utils.naming import ARGOCD_NAMESPACE, PLATFORM_NAMESPACE
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import CLOUDFLARED_IMAGE, DEFAULT_QUOTA, GITHUB, TenancySettings
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import (
    checked_apps_domain, checked_git_server_url, validate_tenants)


# documented in the doc fragment `tenancy`
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
    "apps_domain": {"type": "str", "default": ""},
    "git_server_url": {"type": "str", "default": GITHUB},
    "tunnels": {"type": "bool", "default": False},
    "cloudflared_image": {"type": "str", "default": ""},
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
        cloudflared_image=params["cloudflared_image"] or CLOUDFLARED_IMAGE,
        cloudflared_replicas=params["cloudflared_replicas"],
        apps_domain=checked_apps_domain(params["apps_domain"]),
        git_server_url=checked_git_server_url(params["git_server_url"]),
    )


def echoed_arguments(params: dict) -> dict:
    """The arguments a successful run echoes back (what -vvv shows), the tenant lists as counts: they are the
    inventory itself, were 90% of the result at 500 organizations, and Ansible scanned, serialized and copied
    them several times (docs/performance.md). A failure echoes them whole."""
    counted = {name: f"({len(params[name] or [])} entries, as in the inventory)" for name in ("organizations", "pipelines")}
    return {"module_args": {**params, **counted}}


def converge_tenants(run, what: str) -> dict:
    """Converge every tenant of `what` ("organizations" or "pipelines") of the run's arguments; the module's
    result."""
    # A module run is one short process whose LIST answers are millions of objects without reference cycles;
    # the cyclic collector walked all of them again and again while they were decoded and compared (0.6 s of
    # a 2.7 s no-op at 500 organizations, docs/performance.md) and freed nothing.
    gc.disable()
    params = run.params
    settings = settings_from(params)

    if params["validate_only"]:
        validate_tenants(params["organizations"], params["pipelines"], settings.quota)
        return {"changed": False, "problems": [], "invocation": echoed_arguments(params)}
    # imported here: checking the inventory, the step every onboarding starts with, needs no Kubernetes client
    from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import RunLock
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.converge import run as converge

    def check_lock(api):
        if params["lock_holder"] and not run.check_mode:
            RunLock(api, params["lock_holder"]).check()

    plan, tenants, webhook_secrets, warnings, unlisted = converge(
        lambda: run.api, params["organizations"], params["pipelines"], settings, params["prune"], run.check_mode,
        what, params["prune_confirm"], params["deletion_timeout"], check_lock)
    for warning in warnings:
        run.warn(warning)
    if what == "organizations" and not params["tunnels"] and any(
            org.get("state", "present") == "present" for org in params["organizations"]):
        run.warn("Cloudflare tunnels are off (no Cloudflare credentials: aphex_cloudflare_api_token, "
                 "aphex_cloudflare_account_id, aphex_cloudflare_zone): organizations get no public webhook URL")
    if unlisted[what]:
        run.warn(f"{what} in the cluster but not in the inventory, left as they are (aphex_prune_tenants: true "
                 f"removes them): {', '.join(unlisted[what])}")
    # Only what changed, and a count of the rest: at 23,000 objects, listing every unchanged one cost the
    # module's JSON, Ansible's result handling and the role's Jinja seconds for nothing (docs/performance.md).
    reports = plan.reports()
    changed_objects = [report for report in reports if report["action"] != "unchanged"]
    result = {"changed": plan.changed, "objects": changed_objects, "unchanged": len(reports) - len(changed_objects),
              what: tenants,
              # what the cloudflare_tunnel module takes as its `tunnels`, as it is
              **({"tunnels": [{"organization": org["name"], "state": org["state"]} for org in tenants]}
                 if what == "organizations" else {}),
              "unlisted": unlisted[what], "requests": dict(run.api.requests)}
    if run.diff:
        result["diff"] = plan.diffs()
    result["invocation"] = echoed_arguments(params)
    if params.get("show_secrets") and webhook_secrets:
        result["webhook_secrets"] = webhook_secrets
    return result
