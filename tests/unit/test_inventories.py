"""The example inventories and the kubeconfig the k3s role exports, read with a stock Ansible configuration.

issue 11 item 7: inventories/k3s had the k3s role write the cluster-admin kubeconfig under the inventory folder
({{ inventory_dir }}/artifacts/, not ignored by git, and parsed as an inventory source on the next run), and the
example inventories kept Tekton YAML in pipelines/, which Ansible reads as inventory unless the checkout's
ansible.cfg tells it not to. These tests run Ansible with an empty configuration file.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import REPO
BIN = Path(sys.executable).parent
INVENTORIES = {
    "k3s": {"cluster": "k3s-aphex", "hosts": {"server-1", "gpu-1", "k3s-aphex"},
            "groups": {"all", "k3s_cluster", "k3s_servers", "k3s_agents", "aphex_cluster"},
            "deployment_type": "k3s", "pipelines": 0},
    "kind": {"cluster": "kind-aphex", "hosts": {"localhost", "kind-aphex"},
             "groups": {"all", "kind_hosts", "aphex_cluster"}, "deployment_type": "kind", "pipelines": 0},
    "demo": {"cluster": "demo-cluster", "hosts": {"demo-cluster"}, "groups": {"all", "aphex_cluster"},
             "deployment_type": "kind", "pipelines": 2},
}
EXPECTED_KUBECONFIG = {"k3s": "{home}/.kube/aphex-k3s.kubeconfig", "kind": "{home}/.kube/aphex-kind.kubeconfig",
                       "demo": f"{REPO}/.cluster/admin.kubeconfig"}
FACTS_PLAYBOOK = """
- hosts: aphex_cluster
  gather_facts: false
  tasks:
    - name: Write what the tenant and kubeconfig variables template to
      ansible.builtin.copy:
        content: "{{{{ {{'kubeconfig': aphex_kubeconfig, 'example': acme_web_pipeline,
                      'pipelines': aphex_pipelines}} | to_json }}}}"
        dest: "{out}"
        mode: "0600"
      delegate_to: localhost
"""


def stock_ansible_env(tmp_path: Path) -> dict:
    """Ansible with an empty ansible.cfg, the collection from the checkout and a HOME of the test's own."""
    empty = tmp_path / "empty.cfg"
    empty.write_text("")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update({"ANSIBLE_CONFIG": str(empty), "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_NOCOLOR": "1", "HOME": str(home),
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable})
    return env


def ansible(tool: str, *args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_example_inventory_parses_with_a_stock_configuration(name, tmp_path):
    """issue 11 item 7: with no ignore_patterns, inventories/*/pipelines/*.yaml were read as hosts and groups."""
    expected = INVENTORIES[name]
    result = ansible("ansible-inventory", "-i", str(REPO / "inventories" / name), "--list",
                     env=stock_ansible_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    listing = json.loads(result.stdout)
    assert set(listing) - {"_meta", "ungrouped"} == expected["groups"]  # ungrouped is listed only when used
    hostvars = listing["_meta"]["hostvars"]
    assert set(hostvars) == expected["hosts"]
    cluster = hostvars[expected["cluster"]]
    assert cluster["aphex_deployment_type"] == expected["deployment_type"]
    assert "artifacts" not in cluster["aphex_kubeconfig"]  # where it was; the next test templates the path
    assert len(cluster["aphex_pipelines"]) == expected["pipelines"]
    # No Tekton document leaked into the variables of any host.
    assert not any({"apiVersion", "kind", "spec"} & set(host) for host in hostvars.values())


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_pipelines_load_as_documents_and_the_kubeconfig_lives_outside_the_inventory(name, tmp_path):
    """issue 11 item 7: the kubeconfig path was {{ inventory_dir }}/artifacts/...; pipelines were files in it."""
    env = stock_ansible_env(tmp_path)
    out = tmp_path / "facts.json"
    playbook = tmp_path / "facts.yml"
    playbook.write_text(FACTS_PLAYBOOK.format(out=out))
    result = ansible("ansible-playbook", "-i", str(REPO / "inventories" / name), str(playbook), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "[WARNING]" not in result.stderr, result.stderr
    facts = json.loads(out.read_text())
    kubeconfig = Path(os.path.normpath(facts["kubeconfig"]))
    assert str(kubeconfig) == EXPECTED_KUBECONFIG[name].format(home=env["HOME"])
    assert REPO / "inventories" not in kubeconfig.parents
    example = facts["example"]
    assert (example["apiVersion"], example["kind"], example["metadata"]["name"]) == (
        "tekton.dev/v1", "Pipeline", "acme-web")
    assert [task["name"] for task in example["spec"]["tasks"]] == ["clone"]
    assert len(facts["pipelines"]) == INVENTORIES[name]["pipelines"]
    # Or the catalog's build-and-deploy-v1, read from its file (the demo's acme-web deploys).
    catalog = yaml.safe_load((REPO / "files/pipeline-catalog/v1/build-and-deploy.yaml").read_text())
    documents = [yaml.safe_load(p["pipeline"]) if isinstance(p["pipeline"], str) else p["pipeline"]
                 for p in facts["pipelines"]]
    assert all(document in (example, catalog) for document in documents), [p["name"] for p in facts["pipelines"]]
    assert (catalog in documents) == (name == "demo")


KUBECONFIG_PLAYBOOK = """
- hosts: k3s_servers
  gather_facts: false
  tasks:
    - name: Export the admin kubeconfig the way a server does
      ansible.builtin.include_role:
        name: aphex.platform.k3s
        tasks_from: ensure_kubeconfig
      vars:
        k3s_config_dir: "{config_dir}"
        k3s_api_endpoint: k3s.lab.test

- hosts: aphex_cluster
  gather_facts: false
  tasks:
    - name: Write the kubeconfig path the cluster host received
      ansible.builtin.copy:
        content: "{{{{ aphex_kubeconfig }}}}"
        dest: "{out}"
        mode: "0600"
      delegate_to: localhost
"""
K3S_YAML = {"apiVersion": "v1", "kind": "Config", "current-context": "default",
            "clusters": [{"name": "default", "cluster": {"server": "https://127.0.0.1:6443",
                                                         "certificate-authority-data": "Q0E="}}],
            "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
            "users": [{"name": "default", "user": {"client-certificate-data": "Q0VSVA==",
                                                   "client-key-data": "S0VZ"}}]}


def export_kubeconfig(tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict, Path]:
    """Run the k3s role's kubeconfig export on this machine, with a K3s-made k3s.yaml and no aphex_kubeconfig."""
    env = stock_ansible_env(tmp_path)
    config_dir = tmp_path / "etc-rancher-k3s"
    config_dir.mkdir()
    (config_dir / "k3s.yaml").write_text(yaml.safe_dump(K3S_YAML))
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = tmp_path / "inventory" / "hosts.yml"
    inventory.parent.mkdir()
    inventory.write_text(yaml.safe_dump({"k3s_servers": {"hosts": {"server-1": local}},
                                         "aphex_cluster": {"hosts": {"lab": local}}}))
    out = tmp_path / "received.txt"
    playbook = tmp_path / "export.yml"
    playbook.write_text(KUBECONFIG_PLAYBOOK.format(config_dir=config_dir, out=out))
    result = ansible("ansible-playbook", "-i", str(inventory), str(playbook), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, env, out


def test_k3s_role_writes_the_kubeconfig_outside_the_inventory_with_mode_0600(tmp_path):
    """issue 11 item 7: the default was playbook_dir/artifacts/k3s.kubeconfig, inside the checkout."""
    env, out = export_kubeconfig(tmp_path)[1:]
    kubeconfig = Path(env["HOME"]) / ".kube" / "aphex-lab.kubeconfig"
    assert out.read_text() == str(kubeconfig)  # the aphex_cluster host now points at it
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o700
    exported = yaml.safe_load(kubeconfig.read_text())
    assert exported["clusters"][0]["cluster"]["server"] == "https://k3s.lab.test:6443"
    assert exported["users"] == K3S_YAML["users"]
    assert not (tmp_path / "inventory" / "artifacts").exists() and not (REPO / "playbooks" / "artifacts").exists()


def test_k3s_role_leaves_an_existing_kube_folder_mode_alone(tmp_path):
    """issue 11 item 7: with the kubeconfig now in ~/.kube, the role must not chmod the user's folder."""
    kube = tmp_path / "home" / ".kube"
    kube.mkdir(parents=True)
    kube.chmod(0o755)
    export_kubeconfig(tmp_path)
    assert stat.S_IMODE(kube.stat().st_mode) == 0o755
    assert stat.S_IMODE((kube / "aphex-lab.kubeconfig").stat().st_mode) == 0o600
