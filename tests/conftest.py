"""Shared pytest fixtures.

`control_plane` starts a fresh etcd + kube-apiserver + kube-controller-manager
for the session with the same code as `make cluster-up`, so `pytest
tests/integration` works by itself. The binaries come from CONTROLPLANE_BIN or
from tests/controlplane/build.sh (instant when cached).
"""
from __future__ import annotations

import uuid

import pytest

from tests.controlplane.audit import AuditLog
from tests.controlplane.cluster import ADMIN_USER, ControlPlane, binaries


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    plane = ControlPlane(tmp_path_factory.mktemp("controlplane"), binaries())
    plane.up()
    try:
        yield plane
    finally:
        plane.down()


@pytest.fixture(scope="session")
def audit(control_plane) -> AuditLog:
    return AuditLog(control_plane.audit_log)


@pytest.fixture(scope="session")
def admin_api(control_plane):
    from kubernetes import config

    return config.new_client_from_config(config_file=str(control_plane.admin_kubeconfig))


@pytest.fixture
def namespace(admin_api):
    """A namespace of the test's own, deleted afterwards."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(admin_api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="session")
def admin_user() -> str:
    return ADMIN_USER
