"""Write inventories the way a user does (hosts.yml + host_vars or group_vars) and run onboard.yml and
bootstrap.yml on them."""
from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from harness.kube import argocd_manifest
from harness.platform.releases import build_release_manifests
from harness.playbooks import run_playbook

from harness import REPO
PIPELINE_YAML = (REPO / "tests/integration/fixtures/pipelines/build-and-test.yaml").read_text()
HOST = "test-cluster"
CLOUDFLARE_TOKEN = "cf-token-for-bootstrap-tests-7d1e"
TUNNEL_ZONE = "hooks.example.test"


def unique_suffix() -> str:
    """A short random name part, so that tests sharing a control plane never collide."""
    return uuid.uuid4().hex[:6]


def write_inventory(directory: Path, kubeconfig: Path, **tenant_vars) -> Path:
    (directory / "host_vars" / HOST).mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump({"aphex_cluster": {"hosts": {HOST: {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "aphex_kubeconfig": str(kubeconfig)}}}}))
    (directory / "host_vars" / HOST / "tenants.yml").write_text(yaml.safe_dump(tenant_vars, sort_keys=False))
    return directory


def write_tunnel_inventory(directory: Path, kubeconfig: Path, cloudflare, token: str, **tenant_vars) -> Path:
    """An inventory whose tunnels go to the local Cloudflare server `cloudflare` (its zone hooks.example.test)."""
    return write_inventory(directory, kubeconfig, aphex_cloudflare_api_token=token, **tunnel_settings(cloudflare),
                           **tenant_vars)


def onboard(inventory: Path, *args: str, extra_env=None):
    return run_playbook(REPO / "playbooks/onboard.yml", "-i", str(inventory), *args, extra_env=extra_env)


def module_result(run, task: str) -> dict:
    [result] = run.task_results(task, HOST)
    return result


def org(name: str, *admins: str, **extra) -> dict:
    return {"name": name, "display_name": f"{name.title()} Inc.", "admin_users": list(admins) or [f"admin@{name}.io"],
            **extra}


def pipeline(name: str, organization: str, repo: str, **extra) -> dict:
    return {"name": name, "organization": organization, "repo": repo, "pipeline": PIPELINE_YAML, **extra}


# Taking and giving back the run lock are the only writes of a run that changes nothing (see run_lock).
RUN_LOCK = ("leases", "kube-system", "aphex-platform-run")


def tenant_writes(audit, mark, user) -> list:
    """Writes since mark (verb, resource, namespace, name), the run lock's bookkeeping left out."""
    return [(e.verb, e.resource, e.namespace, e.name) for e in audit.writes(since=mark, user=user)
            if (e.resource, e.namespace, e.name) != RUN_LOCK]


def lock_writes(audit, mark, user) -> list:
    return [e.verb for e in audit.writes(since=mark, user=user) if (e.resource, e.namespace, e.name) == RUN_LOCK]


def write_platform_inventory(directory: Path, kubeconfig: Path, **variables) -> Path:
    """An inventory of bootstrap.yml (group_vars) for the cluster of `kubeconfig`: the kind deployment, ArgoCD's
    manifest from the controller-local cache, the Tekton release manifests built from their sources, no wait."""
    manifest = argocd_manifest()
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    # The Tekton release manifests from their upstream sources, where an air-gapped install keeps them: nothing
    # is downloaded.
    releases = directory / "releases"
    if not releases.exists():
        build_release_manifests(releases)
    (directory / "hosts.yml").write_text(yaml.safe_dump({"aphex_cluster": {"hosts": {HOST: {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "aphex_kubeconfig": str(kubeconfig)}}}}))
    settings = {"aphex_deployment_type": "kind", "aphex_domain": "platform.test", "aphex_manage_hosts": False,
                "platform_wait": False, "platform_argocd_wait": False,
                "platform_argocd_manifest_src": str(manifest),
                "platform_argocd_manifest_checksum": Path(f"{manifest}.sha256").read_text().strip(),
                "aphex_release_manifests_dir": str(releases),
                "aphex_cloudflare_api_token": CLOUDFLARE_TOKEN,
                "aphex_organizations": [], "aphex_pipelines": [], **variables}
    (directory / "group_vars" / "aphex_cluster.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return directory


def bootstrap(inventory: Path, *args: str):
    return run_playbook(REPO / "playbooks/bootstrap.yml", "-i", str(inventory), *args)


def tunnel_settings(cloudflare) -> dict:
    """The variables that send a platform inventory's tunnels (write_platform_inventory's token) to the local
    Cloudflare server `cloudflare` (harness/fixtures.py `local_cloudflare`)."""
    return {"aphex_cloudflare_account_id": cloudflare.state.account_id, "aphex_cloudflare_zone": TUNNEL_ZONE,
            "aphex_cloudflare_base_url": cloudflare.base_url}
