"""Write an inventory the way a user does (hosts.yml + host_vars) and run onboard.yml on it."""
from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from tests.ansible_runner import run_playbook

REPO = Path(__file__).resolve().parents[2]
PIPELINE_YAML = (REPO / "tests/integration/fixtures/pipelines/build-and-test.yaml").read_text()
HOST = "test-cluster"


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
    return write_inventory(directory, kubeconfig, aphex_cloudflare_api_token=token,
                           aphex_cloudflare_account_id=cloudflare.state.account_id,
                           aphex_cloudflare_zone="hooks.example.test", aphex_cloudflare_base_url=cloudflare.base_url,
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
