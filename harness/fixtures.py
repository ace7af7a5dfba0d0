"""The pytest plugin of every test suite (pytest.ini loads it): the collection imported from the checkout as
Ansible imports it, and the fixtures shared by the suites.

`control_plane` starts a fresh etcd + kube-apiserver + kube-controller-manager for the session with the same code
as `make cluster-up`, so `pytest tests/integration` works by itself. The binaries come from CONTROLPLANE_BIN or
from harness/controlplane/build.sh (instant when cached)."""
from __future__ import annotations

import signal
import sys
import time
import uuid

import pytest
from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER, ControlPlane, binaries
from harness.kube import install_platform_apis

# A run stopped from outside still tears its control planes down (fixture finalizers).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def pytest_addoption(parser):
    parser.addoption(
        "--progress-log",
        metavar="FILE",
        help="append one line per test phase as it ends (time, seconds, outcome, phase, test): where a run that "
        "was stopped from outside spent its time",
    )


def pytest_runtest_logreport(report):
    path = _progress_log
    if path is None:
        return
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"{time.strftime('%H:%M:%S')}\t{report.duration:.1f}\t{report.outcome}\t{report.when}\t"
                  f"{report.nodeid}\n")


_progress_log = None


def pytest_configure(config):
    global _progress_log  # pylint: disable=global-statement
    _progress_log = config.getoption("progress_log")


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


@pytest.fixture(scope="module")
def local_cloudflare():
    """The local Cloudflare API server with the zone and token of harness/inventory.py's platform inventories
    (tunnel_settings), for the tests of one module."""
    from harness.cloudflare.server import FakeCloudflare
    from harness.inventory import CLOUDFLARE_TOKEN, TUNNEL_ZONE

    server = FakeCloudflare(CLOUDFLARE_TOKEN, zones=(TUNNEL_ZONE,)).start()
    try:
        yield server
    finally:
        server.stop()
