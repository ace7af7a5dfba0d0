"""Shared pytest fixtures.

`control_plane` starts a fresh etcd + kube-apiserver + kube-controller-manager
for the session with the same code as `make cluster-up`, so `pytest
tests/integration` works by itself. The binaries come from CONTROLPLANE_BIN or
from tests/controlplane/build.sh (instant when cached).
"""
from __future__ import annotations

import signal
import sys
import uuid
from pathlib import Path

import pytest
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

from tests.controlplane.audit import AuditLog
from tests.controlplane.cluster import ADMIN_USER, ControlPlane, binaries

# Import the collection's code the way Ansible does (ansible_collections.aphex.platform...),
# from the checkout that `make setup` links under .collections/.
COLLECTIONS = Path(__file__).resolve().parent.parent / ".collections"
assert (COLLECTIONS / "ansible_collections/aphex/platform").exists(), "run `make setup` first"
_AnsibleCollectionFinder(paths=[str(COLLECTIONS)])._install()  # pylint: disable=protected-access
# A run stopped from outside still tears its control planes down (fixture finalizers).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


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


# The collection's CRDs, ClusterRoles and admission policies, and stand-ins for the CRDs of the platform apps
# whose schema the tests do not depend on.
PLATFORM_FILES = ("files/crds", "tests/integration/fixtures/crds", "files/rbac")
# ArgoCD's own CRDs, as released: the admission policies' expressions are type-checked against their schemas.
ARGOCD_CRDS = ("applications.argoproj.io", "appprojects.argoproj.io")


def install_platform_apis(api_client) -> None:
    """What the platform apps would have installed before tenants are onboarded."""
    from tests.k8s_helpers import REPO, apply_documents, apply_files, argocd_crds, ensure_namespace

    apply_documents(api_client, argocd_crds(*ARGOCD_CRDS))
    apply_files(api_client, *(path for folder in PLATFORM_FILES for path in sorted((REPO / folder).glob("*.yaml"))))
    for namespace in ("platform-system", "argocd"):
        ensure_namespace(api_client, namespace)


@pytest.fixture(scope="session")
def platform_apis(admin_api):
    install_platform_apis(admin_api)
    return admin_api


@pytest.fixture
def bare_control_plane(tmp_path):
    """A control plane of the test's own, with nothing installed."""
    plane = ControlPlane(tmp_path / "controlplane", binaries())
    plane.up()
    try:
        yield plane
    finally:
        plane.down()


@pytest.fixture
def fresh_control_plane(bare_control_plane):
    """A control plane of the test's own with the platform APIs, for tests that act on every tenant (prune)."""
    from kubernetes import config

    install_platform_apis(config.new_client_from_config(config_file=str(bare_control_plane.admin_kubeconfig)))
    return bare_control_plane
