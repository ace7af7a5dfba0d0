"""Issue 14 item 4: the collection as a user installs it - built, installed from its tarball into a collections
path of its own, its playbook run by name (`ansible-playbook aphex.platform.onboard`) from a folder outside the
checkout, with a stock configuration and an inventory of the user's own - onboards a tenant on the local control
plane, and a second run changes nothing."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from harness.collection import install_collection
from harness.playbooks import REPO
from harness.inventory import HOST, org, unique_suffix, write_inventory

BIN = Path(sys.executable).parent


def _user_environment(home: Path, collections: Path) -> dict:
    """No ANSIBLE_* setting of the checkout: a configuration file that does not exist (Ansible's defaults), the
    installed collections path, and the interpreter the inventory's ansible_playbook_python names."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    environment.update({"ANSIBLE_CONFIG": str(home / "no-ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(collections),
                        "ANSIBLE_NOCOLOR": "1", "HOME": str(home), "PATH": f"{BIN}:{environment.get('PATH', '')}"})
    return environment


def _recap(output: str) -> dict:
    [line] = re.findall(rf"^{re.escape(HOST)}\s+:\s+(.*)$", output, re.M)
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def test_the_installed_collection_onboards_a_tenant_by_playbook_name(
        control_plane, platform_apis, admin_api, tmp_path):
    home = tmp_path / "user"
    home.mkdir()
    collections = tmp_path / "collections"
    root = install_collection(REPO, tmp_path, env=_user_environment(home, collections))
    assert (root / "playbooks" / "onboard.yml").is_file()

    name = f"inst{unique_suffix()}"
    inventory = write_inventory(home / "inventory", control_plane.admin_kubeconfig, aphex_organizations=[org(name)])
    command = [str(BIN / "ansible-playbook"), "aphex.platform.onboard", "-i", str(inventory), "-vv"]
    first = subprocess.run(command, check=False, capture_output=True, text=True, cwd=home, timeout=900,
                           env=_user_environment(home, collections))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    # the roles that ran are the installed ones, not the checkout's (-vv prints each task's path)
    task_paths = set(re.findall(r"^task path: (\S+?):\d+$", first.stdout, re.M))
    assert task_paths and all(path.startswith(str(collections)) for path in task_paths), task_paths
    assert str(root / "roles" / "tenants" / "tasks" / "main.yml") in task_paths
    assert _recap(first.stdout)["changed"] >= 1
    namespace = client.CoreV1Api(admin_api).read_namespace(f"org-{name}")
    assert namespace.metadata.labels.get("platform.aphex/organization") == name

    again = subprocess.run(command, check=False, capture_output=True, text=True, cwd=home, timeout=900,
                           env=_user_environment(home, collections))
    assert again.returncode == 0, again.stdout[-4000:]
    assert _recap(again.stdout)["changed"] == 0
