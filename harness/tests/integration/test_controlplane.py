"""The test control plane is a real Kubernetes: each test exercises a piece the
collection's tests depend on, and would fail against a mock or a stub."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from harness.playbooks import run_playbook
from harness.controlplane.cluster import ControlPlane, pinned_versions
from harness.kube import wait_for

from harness import REPO


def test_reports_the_pinned_kubernetes_version(admin_api):
    info = client.VersionApi(admin_api).get_code()
    assert info.git_version == pinned_versions()["K8S_VERSION"]
    assert info.git_tree_state == "clean"


def test_server_side_apply_of_namespace_and_configmap(admin_api, audit, admin_user):
    resources = dynamic.DynamicClient(admin_api).resources
    namespaces = resources.get(api_version="v1", kind="Namespace")
    configmaps = resources.get(api_version="v1", kind="ConfigMap")
    name = f"ssa-{uuid.uuid4().hex[:8]}"
    mark = audit.mark()

    namespaces.server_side_apply(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                 field_manager="pytest")
    applied = configmaps.server_side_apply(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": name},
              "data": {"key": "value"}},
        namespace=name, field_manager="pytest")

    assert applied.data.key == "value"
    assert [entry.manager for entry in applied.metadata.managedFields] == ["pytest"]
    assert applied.metadata.managedFields[0].operation == "Apply"
    patches = [(e.resource, e.name) for e in audit.writes(since=mark, user=admin_user) if e.verb == "patch"]
    assert patches == [("namespaces", name), ("configmaps", "ssa")]
    client.CoreV1Api(admin_api).delete_namespace(name)


def test_crd_becomes_established_and_serves_objects(admin_api):
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.smoke.aphex.io"},
        "spec": {
            "group": "smoke.aphex.io",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}}}}},
            }],
        },
    }
    extensions = client.ApiextensionsV1Api(admin_api)
    extensions.create_custom_resource_definition(crd)

    def established():
        conditions = extensions.read_custom_resource_definition("widgets.smoke.aphex.io").status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    assert wait_for(established, timeout=30)
    custom = client.CustomObjectsApi(admin_api)
    custom.create_namespaced_custom_object("smoke.aphex.io", "v1", "default", "widgets",
                                           {"apiVersion": "smoke.aphex.io/v1", "kind": "Widget",
                                            "metadata": {"name": "w1"}, "spec": {"size": 3}})
    stored = custom.get_namespaced_custom_object("smoke.aphex.io", "v1", "default", "widgets", "w1")
    assert stored["spec"]["size"] == 3
    # The schema is enforced by the real apiserver.
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object("smoke.aphex.io", "v1", "default", "widgets",
                                               {"apiVersion": "smoke.aphex.io/v1", "kind": "Widget",
                                                "metadata": {"name": "w2"}, "spec": {"size": 0}})
    assert invalid.value.status == 422


def test_dry_run_writes_nothing(admin_api, audit, admin_user, namespace):
    core = client.CoreV1Api(admin_api)
    mark = audit.mark()
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}, "data": {"a": "b"}},
                                                dry_run="All")
    assert created.metadata.name == "dry"  # the server ran the request ...
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("dry", namespace)
    assert missing.value.status == 404  # ... and stored nothing
    events = audit.events(since=mark, user=admin_user)
    assert [(e.verb, e.dry_run) for e in events if e.resource == "configmaps"] == [("create", True), ("get", False)]
    assert audit.writes(since=mark, user=admin_user) == []


def test_namespace_deletion_completes(admin_api):
    core = client.CoreV1Api(admin_api)
    name = f"del-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "content"}})
    core.delete_namespace(name)

    def gone():
        try:
            core.read_namespace(name)
        except ApiException as err:
            return err.status == 404
        return False

    # Only kube-controller-manager's namespace controller empties and finalizes it.
    assert wait_for(gone, timeout=60), "namespace stayed Terminating: is kube-controller-manager running?"


def test_controller_manager_fills_aggregated_roles_and_service_accounts(admin_api, namespace):
    core = client.CoreV1Api(admin_api)
    assert wait_for(lambda: any(sa.metadata.name == "default"
                                for sa in core.list_namespaced_service_account(namespace).items), timeout=30)
    rbac = client.RbacAuthorizationV1Api(admin_api)
    assert rbac.read_cluster_role("edit").rules, "the aggregated edit role has no rules"


def test_rbac_denies_a_non_admin_until_bound(control_plane, admin_api, namespace):
    alice = config.new_client_from_config(config_file=str(control_plane.user_kubeconfig("alice")))
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(alice).list_namespaced_config_map(namespace)
    assert denied.value.status == 403

    rbac = client.RbacAuthorizationV1Api(admin_api)
    rbac.create_namespaced_role(namespace, {
        "metadata": {"name": "configmap-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "alice-reads-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]})

    assert client.CoreV1Api(alice).list_namespaced_config_map(namespace).items is not None
    with pytest.raises(ApiException) as still_denied:
        client.CoreV1Api(alice).create_namespaced_config_map(namespace, {"metadata": {"name": "nope"}})
    assert still_denied.value.status == 403
    bob = config.new_client_from_config(config_file=str(control_plane.user_kubeconfig("bob")))
    with pytest.raises(ApiException) as other_user:
        client.CoreV1Api(bob).list_namespaced_config_map(namespace)
    assert other_user.value.status == 403


def test_kubernetes_core_playbook_applies_reads_and_converges(control_plane, admin_api, audit, admin_user):
    playbook = Path(__file__).resolve().parent / "playbooks" / "k8s_smoke.yml"
    name = f"pb-{uuid.uuid4().hex[:8]}"
    kubeconfig = control_plane.admin_kubeconfig
    core = client.CoreV1Api(admin_api)

    first = run_playbook(playbook, "-e", f"namespace_name={name}", "-e", "greeting=hello", kubeconfig=kubeconfig)
    assert first.returncode == 0, first.output
    assert first.host_stats()["changed"] == 1  # the looped apply task, for both objects
    stored = core.read_namespaced_config_map("smoke", name)
    assert stored.data == {"greeting": "hello"}
    assert any(entry.manager == "aphex-smoke" for entry in stored.metadata.managed_fields)
    assert core.read_namespace(name).metadata.labels["platform.aphex/managed-by"] == "aphex-platform"

    again_mark = audit.mark()
    again = run_playbook(playbook, "-e", f"namespace_name={name}", "-e", "greeting=hello", kubeconfig=kubeconfig)
    assert again.returncode == 0, again.output
    assert again.changed == 0
    # kubernetes.core's server-side apply reports no change but still sends
    # the apply PATCH each run: the audit log sees it. The collection's own
    # modules compare first and send nothing (tested with them).
    resent = [(e.verb, e.resource, e.name, e.dry_run) for e in audit.writes(since=again_mark, user=admin_user)]
    assert resent == [("patch", "namespaces", name, False), ("patch", "configmaps", "smoke", False)]

    preview_mark = audit.mark()
    preview = run_playbook(playbook, "-e", f"namespace_name={name}", "-e", "greeting=changed", "--check",
                           kubeconfig=kubeconfig)
    assert preview.returncode == 0, preview.output
    assert preview.host_stats()["changed"] == 1
    assert audit.writes(since=preview_mark, user=admin_user) == []
    assert core.read_namespaced_config_map("smoke", name).data == {"greeting": "hello"}
    core.delete_namespace(name)


def test_cli_up_is_a_noop_when_up_and_down_leaves_no_process(tmp_path):
    """What `make cluster-up` / `make cluster-down` run, on a second cluster."""
    state = tmp_path / "cluster"

    def cli(*arguments):
        return subprocess.run([sys.executable, "-m", "harness.controlplane", *arguments, "--state-dir", str(state)],
                              cwd=REPO, capture_output=True, text=True, check=False)

    first = cli("up")
    assert first.returncode == 0, first.stderr
    assert "ready at https://127.0.0.1:" in first.stdout
    plane = ControlPlane(state)
    pids = {c["name"]: c["pid"] for c in plane.recorded_state()["components"]}
    assert set(pids) == {"egress-guard", "etcd", "kube-apiserver", "kube-controller-manager"}
    assert (state / "admin.kubeconfig").exists() and (state / "users/alice.kubeconfig").exists()
    assert (state / "audit.log").stat().st_size > 0

    second = cli("up")
    assert second.returncode == 0 and "already up" in second.stdout
    assert {c["name"]: c["pid"] for c in plane.recorded_state()["components"]} == pids

    status = cli("status")
    assert status.returncode == 0 and "up at" in status.stdout

    down = cli("down")
    assert down.returncode == 0, down.stderr
    assert "stopped: kube-controller-manager, kube-apiserver, etcd, egress-guard" in down.stdout
    for pid in pids.values():
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    status = cli("status")
    assert status.returncode == 3 and "down" in status.stdout


def test_the_apiserver_cannot_dial_the_cluster_network(bare_control_plane):
    """Issue 10, nothing leaves loopback: a webhook and an APIService backed by Services (10.0.0.0/24) make the
    kube-apiserver dial the cluster network; its egress selector sends every such connection to the egress guard,
    which refuses it and records the address, so the request fails and nothing is sent off loopback."""
    plane = bare_control_plane
    api = config.new_client_from_config(str(plane.admin_kubeconfig))
    core = client.CoreV1Api(api)
    name = f"guard-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    service = core.create_namespaced_service(name, {"metadata": {"name": "hook"}, "spec": {
        "ports": [{"port": 443, "targetPort": 8443}], "selector": {"app": "hook"}}})
    assert service.spec.cluster_ip.startswith("10.0.0.")
    client.AdmissionregistrationV1Api(api).create_validating_webhook_configuration({
        "metadata": {"name": name},
        "webhooks": [{"name": "configmaps.guard.aphex.io", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                      "failurePolicy": "Fail", "timeoutSeconds": 5,
                      "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
                      "clientConfig": {"service": {"namespace": name, "name": "hook", "port": 443}},
                      "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                 "resources": ["configmaps"]}]}]})
    assert plane.egress_attempts() == []

    def refused():
        try:
            core.create_namespaced_config_map(name, {"metadata": {"name": "x"}})
        except ApiException as error:
            return error.status == 500 and "failed calling webhook" in error.body
        return False

    assert wait_for(refused, timeout=30), "the webhook call was not refused"
    attempts = plane.egress_attempts()
    assert attempts and all(a["request"].startswith(f"CONNECT {service.spec.cluster_ip}:443 ") for a in attempts)
