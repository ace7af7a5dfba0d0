"""Issue 27 item 6: the tenant controller under load and faults, on a control plane of the test's own (the API
server is paused here). Many RepoBindings created at once converge; the controller killed (SIGKILL) mid-way and
started again loses nothing and duplicates nothing; the API server paused for 30 s: the controller recovers by
itself. The times are written to build/test-results/tenant-controller-scale.txt (docs/performance.md), never
asserted. The 200-RepoBinding run is the benchmark's (harness/bench/bench_tenant_controller.py)."""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from kubernetes import config, dynamic

from ansible_collections.aphex.platform.plugins.module_utils.naming import sso_user
from harness.controlplane.audit import AuditLog
from harness.kube import REPO, get, wait_for
from harness.tenant_controller import IDENTITY, TenantController, reconciles

APHEX = "aphex.io/v1alpha1"
ORGANIZATIONS = 3
PER_ORGANIZATION = 10
RESULTS = REPO / "build" / "test-results"


def _organization(name: str) -> dict:
    return {"apiVersion": APHEX, "kind": "Organization", "metadata": {"name": name, "namespace": "platform-system"},
            "spec": {"displayName": name, "adminUsers": [f"admin@{name}.io"]}}


def _binding(name: str, org: str) -> dict:
    return {"apiVersion": APHEX, "kind": "RepoBinding", "metadata": {"name": name, "namespace": f"org-{org}"},
            "spec": {"aphexOrg": org, "repoOrg": org, "repoName": name, "pipelineName": name,
                     "templateRef": "run-pipeline-v1"}}


def _phase(api_client, kind, namespace, name):
    return ((get(api_client, APHEX, kind, name, namespace) or {}).get("status") or {}).get("phase")


def _apiserver_pid(plane) -> int:
    [apiserver] = [c for c in plane.recorded_state()["components"] if c["name"] == "kube-apiserver"]
    return apiserver["pid"]


def test_many_repobindings_at_once_a_killed_controller_and_a_paused_api_server(fresh_control_plane, tmp_path):
    plane = fresh_control_plane
    api_client = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    admin = dynamic.DynamicClient(api_client)
    audit = AuditLog(plane.audit_log)
    controller = TenantController(plane, tmp_path / "controller", {"webhook_domain": "hooks.faults.test"},
                                  drift_interval=10, workers=4).start()
    lines = []
    try:
        orgs = [f"load-{index}" for index in range(ORGANIZATIONS)]
        organizations = admin.resources.get(api_version=APHEX, kind="Organization")
        for org in orgs:
            organizations.create(body=_organization(org), namespace="platform-system")
        assert wait_for(lambda: all(_phase(api_client, "Organization", "platform-system", o) == "Ready" for o in orgs),
                        timeout=120), controller.text()[-3000:]
        secrets = {org: get(api_client, "v1", "Secret", "github-webhook-secret", f"org-{org}")["data"]["secret"]
                   for org in orgs}

        # every RepoBinding created at once, each by its organization's admin
        wanted = [(f"{org}-p{index}", org) for org in orgs for index in range(PER_ORGANIZATION)]

        def create(pair):
            name, org = pair
            as_admin = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
            as_admin.set_default_header("Impersonate-User", sso_user(f"admin@{org}.io"))
            dynamic.DynamicClient(as_admin).resources.get(api_version=APHEX, kind="RepoBinding").create(
                body=_binding(name, org), namespace=f"org-{org}")
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, wanted))

        def ready() -> list:
            return [name for name, org in wanted if _phase(api_client, "RepoBinding", f"org-{org}", name) == "Ready"]

        # killed mid-way, with some converged and the rest not
        assert wait_for(lambda: len(ready()) >= len(wanted) // 3, timeout=300, interval=0.5), controller.text()[-3000:]
        controller.stop(kill=True)
        at_kill = {name: get(api_client, "v1", "Namespace", name) for name, _org in wanted}
        at_kill = {name: ns["metadata"]["uid"] for name, ns in at_kill.items() if ns}
        lines.append(f"killed (SIGKILL) with {len(ready())} of {len(wanted)} RepoBindings Ready and "
                     f"{len(at_kill)} pipeline namespaces made")
        controller.start()
        assert wait_for(lambda: len(ready()) == len(wanted), timeout=600, interval=1), (
            sorted(set(n for n, _o in wanted) - set(ready())), controller.text()[-3000:])
        lines.append(f"{len(wanted)} RepoBindings across {ORGANIZATIONS} organizations created at once: all Ready "
                     f"{time.monotonic() - started:.0f} s after the first was created, the controller killed and "
                     "started again on the way")

        # nothing lost, nothing duplicated, nothing regenerated
        for name, org in wanted:
            namespace = get(api_client, "v1", "Namespace", name)
            assert namespace and not namespace["metadata"].get("deletionTimestamp"), name
            if name in at_kill:
                assert namespace["metadata"]["uid"] == at_kill[name], f"{name} was deleted and made again"
            copy = get(api_client, "v1", "Secret", "github-webhook-secret", name)["data"]["secret"]
            assert copy == secrets[org], f"{name}: its webhook secret is not its organization's"
        for org in orgs:
            assert get(api_client, "v1", "Secret", "github-webhook-secret", f"org-{org}")["data"]["secret"] == secrets[org]
            listener = get(api_client, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", f"org-{org}")
            assert listener["spec"]["namespaceSelector"]["matchNames"] == sorted(n for n, o in wanted if o == org)
        creates = [e.name for e in audit.writes(user=IDENTITY) if e.verb == "create" and e.resource == "namespaces"]
        assert sorted(creates) == sorted(set(creates)), "a namespace was created twice"

        # at rest: reads only, so many per reconcile
        time.sleep(12)
        mark = audit.mark()
        time.sleep(25)
        events = audit.events(since=mark, user=IDENTITY)
        assert [e for e in events if e.is_write] == []
        done = reconciles(events)
        assert done, "no reconcile in 25 s at rest: the drift timers do not run"
        lines.append(f"at rest: {len(events)} requests in 25 s for {len(wanted) + len(orgs)} objects (drift interval "
                     f"10 s): {done} reconciles, {len(events) / done:.1f} requests per reconcile, no write")

        # the API server paused for 30 s, then a new RepoBinding: the controller carries on by itself
        pid = _apiserver_pid(plane)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(30)
        finally:
            os.kill(pid, signal.SIGCONT)
        resumed = time.monotonic()
        assert wait_for(plane.is_up, timeout=60)
        create((f"{orgs[0]}-after-pause", orgs[0]))
        assert wait_for(lambda: _phase(api_client, "RepoBinding", f"org-{orgs[0]}", f"{orgs[0]}-after-pause")
                        == "Ready", timeout=180, interval=0.5), controller.text()[-3000:]
        assert controller.process.poll() is None
        lines.append(f"API server paused 30 s (SIGSTOP): a RepoBinding created after it Ready "
                     f"{time.monotonic() - resumed:.1f} s after the API server resumed")
    finally:
        controller.stop()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "tenant-controller-scale.txt").write_text("\n".join(lines) + "\n")
