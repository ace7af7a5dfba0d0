# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the tenant controller:

    python -m ansible_collections.aphex.platform.controller [--settings FILE]

The settings - from FILE, else from $APHEX_TENANCY_SETTINGS (YAML or JSON text) - are the platform's tenancy
settings under the names the organization and pipeline modules take them (webhook_domain, quota, egress,
ingress_namespaces, apps_domain, git_server_url, ...): the tenant-controller app renders them from the variables
onboard.yml reads, so both drivers make the same tenants. The cluster is the pod's own (its ServiceAccount), else
--kubeconfig or $KUBECONFIG."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import yaml

COLLECTION = Path(__file__).resolve().parent.parent
DEFAULT_PIPELINE = COLLECTION / "files" / "pipeline-catalog" / "v1" / "build-and-deploy.yaml"
SETTINGS_VARIABLE = "APHEX_TENANCY_SETTINGS"
# what the settings file may not set: they are per run of a module, not the platform's
NOT_SETTINGS = ("organizations", "pipelines", "prune", "prune_confirm", "lock_holder", "validate_only")


class SettingsError(Exception):
    pass


def tenancy_settings(path: str | None, text: str | None = None):
    """The TenancySettings of the settings file PATH, else of TEXT ($APHEX_TENANCY_SETTINGS); refused, naming what is
    wrong, before anything connects."""
    from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.module import TENANCY_ARGS, settings_from

    source = f"--settings {path}" if path else f"${SETTINGS_VARIABLE}"
    given = {}
    if path or text:
        try:
            given = yaml.safe_load(Path(path).read_text() if path else text) or {}
        except (OSError, yaml.YAMLError) as error:
            raise SettingsError(f"{source}: {error}") from None
        if not isinstance(given, dict):
            raise SettingsError(f"{source}: must be a mapping of tenancy settings")
    known = [name for name in TENANCY_ARGS if name not in NOT_SETTINGS]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise SettingsError(f"{source}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(known)})")
    params = {name: spec.get("default") for name, spec in TENANCY_ARGS.items()}
    params.update(given)
    try:
        settings = settings_from(params)
    except AphexError as error:
        raise SettingsError(f"{source}: {error}") from None
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import quota_problems

    problems = quota_problems("quota", settings.quota)
    if problems:
        raise SettingsError(f"{source}: {'; '.join(problems)}")
    return settings


def default_pipeline(path: Path) -> dict:
    """The catalog's Pipeline as a RepoBinding without pipelineSpec gets it (named and placed by the renderer)."""
    document = yaml.safe_load(path.read_text())
    return {"apiVersion": document["apiVersion"], "kind": document["kind"], "spec": document["spec"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="aphex-tenant-controller", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", help="YAML file of tenancy settings (see above)")
    parser.add_argument("--kubeconfig", help="kubeconfig to connect with (default: in-cluster, else $KUBECONFIG)")
    parser.add_argument("--drift-interval", type=float, default=60.0,
                        help="seconds between two converges of a tenant at rest (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="handler threads (default 4)")
    parser.add_argument("--default-pipeline", default=str(DEFAULT_PIPELINE),
                        help="the Tekton Pipeline a RepoBinding without spec.pipelineSpec runs")
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args(argv)
    if options.kubeconfig:
        os.environ["KUBECONFIG"] = options.kubeconfig  # Kopf's own login reads it
    os.environ["APHEX_CONTROLLER_DRIFT_INTERVAL"] = str(options.drift_interval)

    import kopf

    from ansible_collections.aphex.platform.controller import handlers  # noqa: F401  registers the handlers
    from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
    from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.self_service import Reconciler

    from ansible_collections.aphex.platform.controller.tunnels import cloudflare_access, tunnel_converger

    try:
        settings = tenancy_settings(options.settings, os.environ.get(SETTINGS_VARIABLE))
        api = ClusterApi(kubeconfig=options.kubeconfig or os.environ.get("KUBECONFIG"))
        access = cloudflare_access(api, settings.platform_namespace)
    except (SettingsError, AphexError) as error:
        print(f"aphex-tenant-controller: {error}", file=sys.stderr)
        return 2
    tunnel = None
    if access:  # as the tenants role does: tunnels on, the webhook URLs under the tunnels' zone
        settings.tunnels, settings.webhook_domain = True, access.zone
        tunnel = tunnel_converger(api, access)
    kopf.configure(verbose=options.verbose, log_prefix=True)
    if not options.verbose:
        # a timer that found nothing to do, every drift interval for every tenant, is not news
        logging.getLogger("kopf.objects").addFilter(
            lambda record: not (record.getMessage().startswith("Timer ") and record.getMessage().endswith(
                " succeeded.")))
    reconciler = Reconciler(api, settings, default_pipeline(Path(options.default_pipeline)), tunnel=tunnel)
    kopf.run(clusterwide=True, standalone=True, memo=kopf.Memo(reconciler=reconciler, workers=options.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
