"""Issue 14 item 7: an error names the variable the user sets. The roles' argument specs name their own options
(`tenants_quota`), which no user writes; bootstrap.yml and onboard.yml now check the inventory's aphex_* variables
against playbooks/vars/inventory_spec.yml first, before any host or the cluster is touched."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import REPO
BIN = Path(sys.executable).parent
SPEC = yaml.safe_load((REPO / "playbooks/vars/inventory_spec.yml").read_text())["aphex_inventory_spec"]["options"]
# Variables the playbooks and roles read from the inventory that are not the aphex_cluster host's settings:
# the group name itself, and a GPU node's own facts (nvidia_gpu writes aphex_nvidia_gpu; k3s reads aphex_gpu).
NOT_SETTINGS = {"aphex_cluster", "aphex_nvidia_gpu", "aphex_gpu", "aphex_inventory_spec"}
SECRET = "cf-token-that-must-not-show"


def _run(playbook: str, inventory: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                   "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    return subprocess.run([str(BIN / "ansible-playbook"), f"playbooks/{playbook}", "-i", str(inventory), *args],
                          cwd=REPO, env=environment, capture_output=True, text=True, check=False, timeout=300)


def _inventory(path: Path, **variables) -> Path:
    host = {"ansible_connection": "local", "aphex_kubeconfig": str(path.parent / "no-cluster.kubeconfig"),
            **variables}
    path.write_text(yaml.safe_dump({"all": {"children": {"aphex_cluster": {"hosts": {"localhost": host}}}}}))
    return path


@pytest.mark.parametrize("playbook", ["onboard.yml", "bootstrap.yml"])
def test_bad_inventory_values_are_named_by_their_aphex_variable_before_anything_runs(playbook, tmp_path):
    inventory = _inventory(tmp_path / "hosts.yml", aphex_tenant_quota="lots", aphex_tenant_egress="closed",
                           aphex_request_timeout="soon", aphex_deployment_type="minikube",
                           aphex_cloudflare_api_token=SECRET)
    run = _run(playbook, inventory, "-vvv")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "argument 'aphex_tenant_quota' is of type str and we were unable to convert to dict" in output
    assert "value of aphex_tenant_egress must be one of: open, restricted, got: closed" in output
    assert "argument 'aphex_request_timeout' is of type str and we were unable to convert to int" in output
    assert "value of aphex_deployment_type must be one of: kind, k3s, got: minikube" in output
    assert "tenants_quota" not in output and "tenants_egress" not in output
    assert SECRET not in output
    # the check is the only task that ran: no play after it started
    assert re.findall(r"^TASK \[([^\]]*)\]", run.stdout, re.M) == ["Check the aphex_* variables before anything is touched"]


def test_the_check_runs_with_any_tags(tmp_path):
    """A stage run alone (--tags wait) is checked too."""
    run = _run("bootstrap.yml", _inventory(tmp_path / "hosts.yml", aphex_tenant_egress="closed"), "--tags", "wait")
    assert run.returncode != 0
    assert "value of aphex_tenant_egress must be one of: open, restricted, got: closed" in run.stdout


# inventories/demo reads what `make demo` builds (the ArgoCD manifest's checksum file), so it is checked there.
@pytest.mark.parametrize("inventory", ["kind", "k3s"])
def test_the_example_inventories_pass_the_check(inventory):
    """--tags with no stage runs only what is tagged always: the checks (this one and every role's argument spec)."""
    run = _run("bootstrap.yml", REPO / "inventories" / inventory, "--tags", "no-stage")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Check the aphex_* variables before anything is touched" in run.stdout


def _read_variables() -> set:
    """Every aphex_* name the roles' defaults, their tasks and the playbooks read."""
    sources = [*REPO.glob("roles/*/defaults/main.yml"), *REPO.glob("roles/*/defaults/main/*.yml"), *REPO.glob("roles/*/tasks/*.yml"),
               *REPO.glob("roles/*/vars/*.yml"), *REPO.glob("playbooks/*.yml")]
    names = set()
    for source in sources:
        names |= set(re.findall(r"\baphex_[a-z_]+\b", source.read_text()))
    return names - NOT_SETTINGS


def test_every_inventory_variable_the_content_reads_is_declared_once():
    undeclared = _read_variables() - set(SPEC)
    assert not undeclared, f"add to playbooks/vars/inventory_spec.yml: {sorted(undeclared)}"


def test_every_declared_variable_is_read_somewhere():
    unused = set(SPEC) - _read_variables()
    assert not unused, f"declared in playbooks/vars/inventory_spec.yml but read nowhere: {sorted(unused)}"
