"""`make bench`, fourth part: the tenant controller (controller/) at scale, on a control plane of its own.

The controller runs as it does in tests/integration/test_tenant_controller.py (a process with its ServiceAccount's
token). Measured: the time from creating one Organization and one RepoBinding to both Ready, on an empty cluster;
then 200 RepoBindings created at once across 10 organizations (20 threads, each as its organization's admin) to the
last one Ready; then, at rest, the requests the controller sends per reconcile (its audit log, over three drift
intervals) and that it sends no write. Printed as a table for docs/performance.md.
"""
from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ControlPlane, binaries
from harness.kube import get, install_platform_apis, wait_for
from harness.tenant_controller import IDENTITY, TenantController, reconciles

APHEX = "aphex.io/v1alpha1"
ORGANIZATIONS = 10
BINDINGS = 200
DRIFT_INTERVAL = 30.0


def _client(plane, user=None):
    from kubernetes import config, dynamic

    api = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    if user:
        api.set_default_header("Impersonate-User", user)
    return api, dynamic.DynamicClient(api)


def _phase(api, kind, namespace, name):
    return ((get(api, APHEX, kind, name, namespace) or {}).get("status") or {}).get("phase")


def _organization(name):
    return {"apiVersion": APHEX, "kind": "Organization", "metadata": {"name": name, "namespace": "platform-system"},
            "spec": {"displayName": name, "adminUsers": [f"admin@{name}.io"]}}


def _binding(name, org):
    return {"apiVersion": APHEX, "kind": "RepoBinding", "metadata": {"name": name, "namespace": f"org-{org}"},
            "spec": {"aphexOrg": org, "repoOrg": org, "repoName": name, "pipelineName": name,
                     "templateRef": "run-pipeline-v1"}}


def main() -> int:
    from ansible_collections.aphex.platform.plugins.module_utils.naming import sso_user

    with tempfile.TemporaryDirectory(prefix="aphex-bench-controller-") as folder:
        plane = ControlPlane(Path(folder) / "controlplane", binaries())
        plane.up()
        try:
            api, admin = _client(plane)
            install_platform_apis(api)
            controller = TenantController(plane, Path(folder) / "controller", {"webhook_domain": "hooks.bench.test"},
                                          drift_interval=DRIFT_INTERVAL).start()
            organizations = admin.resources.get(api_version=APHEX, kind="Organization")
            started = time.monotonic()
            organizations.create(body=_organization("first"), namespace="platform-system")
            assert wait_for(lambda: _phase(api, "Organization", "platform-system", "first") == "Ready", timeout=120)
            first = _client(plane, sso_user("admin@first.io"))[1]
            bindings = first.resources.get(api_version=APHEX, kind="RepoBinding")
            bindings.create(body=_binding("first-web", "first"), namespace="org-first")
            assert wait_for(lambda: _phase(api, "RepoBinding", "org-first", "first-web") == "Ready", timeout=120)
            one = time.monotonic() - started

            orgs = [f"bench-{index}" for index in range(ORGANIZATIONS)]
            for org in orgs:
                organizations.create(body=_organization(org), namespace="platform-system")
            assert wait_for(lambda: all(_phase(api, "Organization", "platform-system", o) == "Ready" for o in orgs),
                            timeout=300)
            wanted = [(f"{orgs[index % ORGANIZATIONS]}-p{index}", orgs[index % ORGANIZATIONS])
                      for index in range(BINDINGS)]
            clients = {org: _client(plane, sso_user(f"admin@{org}.io"))[1] for org in orgs}

            def create(pair):
                name, org = pair
                clients[org].resources.get(api_version=APHEX, kind="RepoBinding").create(
                    body=_binding(name, org), namespace=f"org-{org}")
            started = time.monotonic()
            with ThreadPoolExecutor(20) as pool:
                list(pool.map(create, wanted))
            created = time.monotonic() - started

            def ready():
                return sum(_phase(api, "RepoBinding", f"org-{org}", name) == "Ready" for name, org in wanted)
            assert wait_for(lambda: ready() == BINDINGS, timeout=3600, interval=2), controller.text()[-3000:]
            many = time.monotonic() - started

            audit = AuditLog(plane.audit_log)
            time.sleep(DRIFT_INTERVAL)
            mark = audit.mark()
            time.sleep(DRIFT_INTERVAL * 3)
            events = audit.events(since=mark, user=IDENTITY)
            objects = BINDINGS + ORGANIZATIONS + 2
            writes = [e for e in events if e.is_write]
            done = reconciles(events)
            controller.stop()
        finally:
            plane.down()
    print("| measure | result |")
    print("|---|---|")
    print(f"| one Organization and one RepoBinding, created to both Ready | {one:.1f} s |")
    print(f"| {BINDINGS} RepoBindings across {ORGANIZATIONS} organizations, created at once ({created:.1f} s to "
          f"create) to the last Ready | {many:.0f} s ({BINDINGS / many:.1f} per second) |")
    print(f"| at rest, {objects} objects, drift interval {DRIFT_INTERVAL:.0f} s: requests per reconcile | "
          f"{len(events) / max(done, 1):.1f} ({len(events)} requests, {done} reconciles in "
          f"{DRIFT_INTERVAL * 3:.0f} s: {done / (DRIFT_INTERVAL * 3):.1f} per second), writes: {len(writes)} |")
    return 0 if not writes else 1


if __name__ == "__main__":
    sys.exit(main())
