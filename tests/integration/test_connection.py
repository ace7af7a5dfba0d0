"""Issue 14 item 2: the modules take kubernetes.core's connection options and read them the way kubernetes.core
does. A platform engineer who reaches the cluster with a ServiceAccount token (CI, a pod) and not a kubeconfig
was refused; K8S_AUTH_* variables other than the kubeconfig were ignored; impersonation was impossible.

Every run here goes through ansible-playbook, and the audit log says whose identity the API server saw."""
from __future__ import annotations

import socket
import threading
import uuid

import pytest
import yaml
from kubernetes import client

from harness.playbooks import run_playbook
from harness.controlplane.cluster import ADMIN_USER

HOST = "localhost"


def _playbook(path, task_options: dict, component: str, namespace: str):
    """One aphex.platform.manifests task writing a ConfigMap, with the given connection options."""
    task = {"name": "Write the ConfigMap", "aphex.platform.manifests": {
        **task_options, "component": component, "namespace": namespace,
        "definitions": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": component},
                         "data": {"written": "by a token"}}]}}
    path.write_text(yaml.safe_dump([{"hosts": HOST, "gather_facts": False, "tasks": [task]}], sort_keys=False))
    return path


@pytest.fixture
def service_account(admin_api, namespace):
    """A ServiceAccount that may read and write ConfigMaps (cluster-wide: the module lists by label) and read
    namespaces (it checks the target namespace exists), and a short-lived token of it from the TokenRequest API."""
    name = f"deployer-{uuid.uuid4().hex[:6]}"
    core, rbac = client.CoreV1Api(admin_api), client.RbacAuthorizationV1Api(admin_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create", "patch", "update"]},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}]})
    rbac.create_cluster_role_binding({
        "metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    token = core.create_namespaced_service_account_token(
        name, namespace, {"spec": {"expirationSeconds": 600}}).status.token
    try:
        yield {"user": f"system:serviceaccount:{namespace}:{name}", "token": token}
    finally:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)


def _configmap(admin_api, namespace, name):
    return client.CoreV1Api(admin_api).read_namespaced_config_map(name, namespace)


def test_a_service_account_token_with_host_and_ca_cert_connects(
        control_plane, admin_api, audit, namespace, service_account, tmp_path):
    """host + api_key + ca_cert, no kubeconfig at all: the API server sees the ServiceAccount, and a kubeconfig
    that is not there is not read (kubernetes.core needs none when host and a credential are given)."""
    component = f"token-{uuid.uuid4().hex[:6]}"
    options = {"host": control_plane.url, "api_key": service_account["token"],
               "ca_cert": str(control_plane.pki.serving_ca)}
    mark = audit.mark()
    run = run_playbook(_playbook(tmp_path / "token.yml", options, component, namespace),
                       extra_env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "absent.kubeconfig"),
                                  "HOME": str(tmp_path)})
    assert run.returncode == 0, run.output
    assert run.changed == 1
    assert _configmap(admin_api, namespace, component).data == {"written": "by a token"}
    writes = audit.writes(mark, user=service_account["user"])
    assert [(event.verb, event.resource, event.name) for event in writes] == [("patch", "configmaps", component)]
    # (the namespace's own controllers write in it too: its root CA ConfigMap, its default ServiceAccount)
    assert [event.user for event in audit.writes(mark) if event.name == component] == [service_account["user"]]
    assert service_account["token"] not in run.output


def test_the_k8s_auth_environment_variables_are_the_fallbacks(control_plane, admin_api, audit, namespace,
                                                              service_account, tmp_path):
    """K8S_AUTH_HOST, K8S_AUTH_API_KEY and K8S_AUTH_SSL_CA_CERT alone, a task that names no connection option:
    the first run writes as the ServiceAccount, the second sends no write."""
    component = f"env-{uuid.uuid4().hex[:6]}"
    playbook = _playbook(tmp_path / "env.yml", {}, component, namespace)
    environment = {"K8S_AUTH_HOST": control_plane.url, "K8S_AUTH_API_KEY": service_account["token"],
                   "K8S_AUTH_SSL_CA_CERT": str(control_plane.pki.serving_ca), "HOME": str(tmp_path),
                   "K8S_AUTH_KUBECONFIG": ""}
    mark = audit.mark()
    first = run_playbook(playbook, extra_env=environment)
    assert first.returncode == 0, first.output
    assert first.changed == 1
    assert len(audit.writes(mark, user=service_account["user"])) == 1
    mark = audit.mark()
    again = run_playbook(playbook, extra_env=environment)
    assert again.returncode == 0, again.output
    assert again.changed == 0
    assert audit.events(mark, user=service_account["user"]), "the re-run read the cluster as the ServiceAccount"
    # the identity the run acts as, and the admin whose kubeconfig it must not have used; the cluster's own
    # controllers go on writing meanwhile (an earlier test's namespace being emptied, the API server's Lease)
    assert audit.writes(mark, user=service_account["user"]) == []
    assert audit.writes(mark, user=ADMIN_USER) == []


def test_impersonation_is_sent_and_authorized_as_the_impersonated_user(control_plane, namespace, tmp_path):
    """impersonate_user: the admin's kubeconfig acting as a user with no rights is refused by RBAC, and the
    message names that user; the ConfigMap is not written."""
    component = f"imp-{uuid.uuid4().hex[:6]}"
    options = {"kubeconfig": str(control_plane.admin_kubeconfig), "impersonate_user": "nobody-in-particular"}
    run = run_playbook(_playbook(tmp_path / "imp.yml", options, component, namespace))
    assert run.returncode != 0
    [(_task, result)] = run.failed_results
    assert '"nobody-in-particular" cannot list resource "configmaps"' in result["msg"], result["msg"]


def test_a_missing_kubeconfig_is_named(tmp_path):
    """Given, or the default one: the message names the file looked for, not the client's "Invalid kube-config"."""
    given = tmp_path / "nowhere" / "cluster.kubeconfig"
    run = run_playbook(_playbook(tmp_path / "given.yml", {"kubeconfig": str(given)}, "x", "default"),
                       extra_env={"HOME": str(tmp_path)})
    [(_task, result)] = run.failed_results
    assert result["msg"] == f"cannot connect to the cluster: no kubeconfig cluster.kubeconfig in {given.parent} " \
                            "(option kubeconfig (or K8S_AUTH_KUBECONFIG))"
    run = run_playbook(_playbook(tmp_path / "default.yml", {}, "x", "default"),
                       extra_env={"HOME": str(tmp_path), "KUBECONFIG": "", "K8S_AUTH_KUBECONFIG": ""})
    [(_task, result)] = run.failed_results
    assert result["msg"] == f"cannot connect to the cluster: no kubeconfig config in {tmp_path}/.kube " \
                            "(the default, as neither kubeconfig nor host with credentials is set)"


def test_a_host_that_never_answers_fails_within_the_request_timeout(tmp_path):
    """The bound holds on the host + api_key path too (no kubeconfig read)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held = []
    thread = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}"
    options = {"host": url, "api_key": "not-a-secret", "validate_certs": False, "request_timeout": 2}
    run = run_playbook(_playbook(tmp_path / "silent.yml", options, "x", "default"))
    listener.close()
    [(_task, result)] = run.failed_results
    assert result["msg"].startswith(f"connecting to the API server (host {url}) failed: the API server {url} "
                                    "gave no answer ("), result["msg"]
    assert result["msg"].endswith("timeout 2 s)")
    assert held, "the server was reached and kept silent"


def test_a_given_kubeconfig_is_not_overridden_by_k8s_auth_variables(
        control_plane, admin_api, audit, namespace, tmp_path):
    """kubernetes.core lets K8S_AUTH_HOST + K8S_AUTH_API_KEY win over a kubeconfig option; left on a CI runner they
    would send the run (and its prune) to another cluster. With kubeconfig given, none of them is read. The path
    is given with $HOME, which the option's type (raw) leaves to the module to expand."""
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "cluster.kubeconfig").write_text(control_plane.admin_kubeconfig.read_text())
    component = f"pin-{uuid.uuid4().hex[:6]}"
    options = {"kubeconfig": "$HOME/.kube/cluster.kubeconfig"}
    mark = audit.mark()
    run = run_playbook(_playbook(tmp_path / "pinned.yml", options, component, namespace),
                       extra_env={"HOME": str(home), "K8S_AUTH_HOST": "https://127.0.0.1:9",
                                  "K8S_AUTH_API_KEY": "not-a-secret", "K8S_AUTH_VERIFY_SSL": "no",
                                  "K8S_AUTH_IMPERSONATE_USER": "nobody-in-particular"})
    assert run.returncode == 0, run.output[-3000:]
    assert _configmap(admin_api, namespace, component).data == {"written": "by a token"}
    assert [event.user for event in audit.writes(mark) if event.name == component] == [ADMIN_USER]
