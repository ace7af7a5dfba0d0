# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the organization and pipeline modules: arguments in, one
converge, errors turned into fail_json once, at the top."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.args import CLUSTER_ARGS, TENANCY_ARGS, settings_from
from ansible_collections.aphex.platform.plugins.module_utils.k8s_api import (
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    ClusterApi,
    ClusterApiError,
)
from ansible_collections.aphex.platform.plugins.module_utils.run_lock import RunLock
from ansible_collections.aphex.platform.plugins.module_utils.tenancy import TenancyError, run
from ansible_collections.aphex.platform.plugins.module_utils.validation import TenantValidationError, validate_tenants


def run_module(what: str, extra_args=None) -> None:
    module = AnsibleModule(argument_spec={**CLUSTER_ARGS, **TENANCY_ARGS, **(extra_args or {})},
                           supports_check_mode=True)
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    params = module.params
    apis = []
    settings = settings_from(params)

    def connect():
        apis.append(ClusterApi(params["kubeconfig"], params["context"], params["request_timeout"]))
        return apis[0]

    def check_lock(api):
        if params["lock_holder"] and not module.check_mode:
            RunLock(api, params["lock_holder"]).check()

    if params["validate_only"]:
        try:
            validate_tenants(params["organizations"], params["pipelines"], settings.quota)
        except TenantValidationError as error:
            module.fail_json(msg=str(error), problems=error.problems)
        module.exit_json(changed=False, problems=[])
    try:
        plan, tenants, webhook_secrets, warnings, unlisted = run(
            connect, params["organizations"], params["pipelines"], settings, params["prune"], module.check_mode,
            what, params["prune_confirm"], params["deletion_timeout"], check_lock)
    except TenantValidationError as error:
        module.fail_json(msg=str(error), problems=error.problems)
    except (TenancyError, ClusterApiError) as error:
        module.fail_json(msg=str(error))
    for warning in warnings:
        module.warn(warning)
    if what == "organizations" and not params["tunnels"] and any(
            org.get("state", "present") == "present" for org in params["organizations"]):
        module.warn("Cloudflare tunnels are off (no Cloudflare credentials: aphex_cloudflare_api_token, "
                    "aphex_cloudflare_account_id, aphex_cloudflare_zone): organizations get no public webhook URL")
    if unlisted[what]:
        module.warn(f"{what} in the cluster but not in the inventory, left as they are (aphex_prune_tenants: true "
                    f"removes them): {', '.join(unlisted[what])}")
    result = {"changed": plan.changed, "objects": plan.reports(), what: tenants,
              "unlisted": unlisted[what], "requests": dict(apis[0].requests)}
    if module._diff:
        result["diff"] = plan.diffs()
    if params.get("show_secrets") and webhook_secrets:
        result["webhook_secrets"] = webhook_secrets
    module.exit_json(**result)
