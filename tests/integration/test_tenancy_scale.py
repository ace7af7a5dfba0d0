"""Issue 15: the faster no-op must not trade away drift repair. 500 organizations x 2 pipelines (22,000
objects) on a control plane of their own; someone else changes one object in the middle of them; the next run
writes exactly that object back, and nothing else. (Times are measured by `make bench`, not asserted here.)"""
from __future__ import annotations

from kubernetes import client, config

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.inventory import (
    HOST,
    lock_writes,
    onboard,
    org,
    pipeline,
    tenant_writes,
    write_inventory,
)

ORGANIZATIONS = 500


def test_one_drifted_object_among_22000_is_found_and_repaired_alone(fresh_control_plane, tmp_path):
    plane = fresh_control_plane
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(plane.admin_kubeconfig)))
    audit = AuditLog(plane.audit_log)
    inventory = write_inventory(
        tmp_path / "inventory", plane.admin_kubeconfig,
        aphex_organizations=[org(f"s{i:03d}") for i in range(ORGANIZATIONS)],
        aphex_pipelines=[pipeline(f"s{i:03d}-p{j}", f"s{i:03d}", f"owner{i}/repo{j}")
                         for i in range(ORGANIZATIONS) for j in range(2)])
    first = onboard(inventory)
    assert first.returncode == 0, first.output[-3000:]
    [pipelines] = first.task_results("Converge the pipelines", HOST)
    [organizations] = first.task_results("Converge the organizations", HOST)
    total = len(pipelines["objects"]) + len(organizations["objects"])
    assert total > 20000

    # kubectl-edit style: another field manager raises one pipeline's quota
    core.patch_namespaced_resource_quota("tenant-quota", "s250-p1", {"spec": {"hard": {"pods": "999"}}},
                                         field_manager="someone-else")
    mark = audit.mark()
    repair = onboard(inventory)
    assert repair.returncode == 0, repair.output[-3000:]
    assert tenant_writes(audit, mark, ADMIN_USER) == [("patch", "resourcequotas", "s250-p1", "tenant-quota")]
    assert lock_writes(audit, mark, ADMIN_USER) == ["create", "delete"]
    assert core.read_namespaced_resource_quota("tenant-quota", "s250-p1").spec.hard["pods"] == "20"  # the default
    [pipelines] = repair.task_results("Converge the pipelines", HOST)
    [organizations] = repair.task_results("Converge the organizations", HOST)
    assert pipelines["objects"] == [{"action": "updated", "kind": "ResourceQuota", "namespace": "s250-p1",
                                     "name": "tenant-quota"}]
    assert organizations["objects"] == []
    # every other object was compared and found as desired
    assert pipelines["unchanged"] + organizations["unchanged"] == total - 1
