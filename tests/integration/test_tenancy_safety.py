"""Nothing is lost under mistakes, concurrency and faults: issue 11's defects, each reproduced through
playbooks/onboard.yml (or the module code) against the real control plane. Each test names its defect."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config, dynamic

from harness.playbooks import REPO, PlaybookRun
from ansible_collections.aphex.platform.plugins.module_utils.naming import TRIGGERS_V1BETA1 as TRIGGERS
from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import POLL_SECONDS
from harness.inventory import (
    HOST,
    module_result,
    onboard,
    org,
    pipeline,
    tenant_writes,
    unique_suffix,
    write_tunnel_inventory,
    write_inventory,
)
from harness.kube import get, list_labelled, wait_for


def _secret(api, namespace):
    found = get(api, "v1", "Secret", "github-webhook-secret", namespace)
    return found and found["data"]["secret"]


def _warnings(run, task="Converge the organizations") -> list:
    return module_result(run, task).get("warnings", [])


# ------------------------------------------------------------------ item 2
def test_quoted_false_cascade_refuses_and_quoted_no_never_rotates(
        platform_apis, control_plane, tmp_path, audit, admin_user):
    """Issue 11 item 2: cascade: "false" deleted an organization's pipelines, rotate_webhook_secret: "no" rotated
    the webhook secret on every run: quoted booleans were used as truth values."""
    s = unique_suffix()
    acme, web = f"quoted{s}", f"qweb{s}"
    inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig,
                                aphex_organizations=[org(acme, rotate_webhook_secret="no")],
                                aphex_pipelines=[pipeline(web, acme, "acme/web")])
    assert onboard(inventory).returncode == 0
    secret = _secret(platform_apis, f"org-{acme}")
    again = onboard(inventory)
    assert again.returncode == 0 and again.changed == 0, again.output
    assert _secret(platform_apis, f"org-{acme}") == secret

    write_inventory(inventory, control_plane.admin_kubeconfig,
                    aphex_organizations=[org(acme, state="absent", cascade="false")], aphex_pipelines=[])
    mark = audit.mark()
    refused = onboard(inventory)
    assert refused.returncode != 0
    assert module_result(refused, "Converge the organizations")["msg"] == (
        f"organization '{acme}' still has pipelines {web}: remove them first or set cascade: true on the organization")
    assert tenant_writes(audit, mark, admin_user) == []
    assert get(platform_apis, "v1", "Namespace", web) is not None

    write_inventory(inventory, control_plane.admin_kubeconfig,
                    aphex_organizations=[org(acme, state="absent", cascade="yes please")], aphex_pipelines=[])
    invalid = onboard(inventory)
    assert invalid.returncode != 0
    assert module_result(invalid, "Validate the tenant inventory")["problems"] == [
        f"aphex_organizations[{acme}].cascade: 'yes please' is not a boolean (true/false, yes/no, on/off, 1/0)"]


# ------------------------------------------------------------------ item 3
@pytest.mark.parametrize("deployment_type, namespaces", [("kind", ["ingress-system"]), ("k3s", ["traefik"])])
def test_tenant_network_policy_admits_the_deployed_ingress_controller(
        deployment_type, namespaces, platform_apis, control_plane, tmp_path):
    """Issue 11 item 3: the policy admitted ingress-nginx, traefik and tekton-pipelines, but the kind catalog installs
    ingress-nginx into ingress-system; the namespaces now come from the catalog the deployment type deploys."""
    s = unique_suffix()
    inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig, aphex_deployment_type=deployment_type,
                                aphex_organizations=[org(f"net{s}")],
                                aphex_pipelines=[pipeline(f"netweb{s}", f"net{s}", "acme/web")])
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    policy = get(platform_apis, "networking.k8s.io/v1", "NetworkPolicy", "tenant-isolation", f"netweb{s}")["spec"]
    assert policy["ingress"][0]["from"][2] == {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}]}}


# ------------------------------------------------------------------ item 4
def test_with_tunnels_the_repobinding_carries_the_same_webhook_url_as_the_organization(
        platform_apis, control_plane, tmp_path):
    """Issue 11 item 4: with tunnels and no aphex_webhook_domain, the Organization got the zone as its domain and the
    pipeline module the empty one, so RepoBinding.status.webhookURL was empty."""
    from harness.cloudflare.server import FakeCloudflare

    fake = FakeCloudflare("cf-domain-token", zones=("hooks.example.test",)).start()
    try:
        s = unique_suffix()
        acme = f"dom{s}"
        inventory = write_tunnel_inventory(
            tmp_path / "inv", control_plane.admin_kubeconfig, fake, "cf-domain-token",
            aphex_organizations=[org(acme)], aphex_pipelines=[pipeline(f"domweb{s}", acme, "acme/web")])
        run = onboard(inventory)
        assert run.returncode == 0, run.output
        url = f"https://{acme}.hooks.example.test"
        assert get(platform_apis, "aphex.io/v1alpha1", "Organization", acme, "platform-system")["status"]["webhookURL"] == url
        assert get(platform_apis, "aphex.io/v1alpha1", "RepoBinding", f"domweb{s}",
                   "platform-system")["status"]["webhookURL"] == url
    finally:
        fake.stop()


# ------------------------------------------------------------------ item 10
def _start(inventory: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
    return subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / "playbooks/onboard.yml"),
                             "-i", str(inventory), *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen) -> PlaybookRun:
    import json

    output = process.communicate(timeout=600)[0]
    document = re.search(r"^\{$.*", output, re.M | re.S)
    return PlaybookRun(process.returncode, output, json.loads(document.group(0)) if document else {})


def _printed_secrets(run) -> dict:
    shown = run.task_results("Show the webhook endpoints and secrets for the GitHub setup", HOST)[0]["results"]
    return {r["item"]["name"]: r["msg"].rsplit("secret ", 1)[1] for r in shown}


def _waited(run) -> float:
    return run.task_results("Take the cluster's run lock", HOST)[0]["waited"]


def test_two_runs_at_once_take_turns_and_print_the_secret_that_is_stored(platform_apis, control_plane, tmp_path):
    """Issue 11 item 10: two onboarding runs with 10 overlapping organizations both succeeded, but the webhook
    Secret was force-applied, so for 10 of 10 the secret one run printed was not the one stored.

    The two runs start together, and the one that finds the lock held polls it (POLL_SECONDS) until the other is
    done. `waited` also counts the lock's own requests, so the first run can report 0.2 s on two busy cores (seen
    in CI: [0.2, 4.0]); overlap is a wait of a poll or more. On busy cores one run can also finish before the other
    reaches the lock, which would prove nothing: such an attempt is made again with new organizations, up to three
    times, each attempt's secrets checked all the same."""
    overlapped = []
    for attempt in range(3):
        s = f"{unique_suffix()}{attempt}"
        shared = [org(f"both{i}{s}") for i in range(10)]
        first = write_inventory(tmp_path / f"one{attempt}", control_plane.admin_kubeconfig,
                                aphex_organizations=shared + [org(f"only1{s}")], aphex_show_secrets=True)
        second = write_inventory(tmp_path / f"two{attempt}", control_plane.admin_kubeconfig,
                                 aphex_organizations=shared + [org(f"only2{s}")], aphex_show_secrets=True)
        runs = [_finish(p) for p in [_start(first), _start(second)]]
        for run in runs:
            assert run.returncode == 0, run.output
        for entry in shared:
            stored = base64.b64decode(_secret(platform_apis, f"org-{entry['name']}")).decode()
            assert [_printed_secrets(run)[entry["name"]] for run in runs] == [stored, stored], entry["name"]
        waited = [_waited(run) for run in runs]
        if any(seconds >= POLL_SECONDS for seconds in waited):  # one waited for the other: they overlapped
            overlapped.append(waited)
            break
    assert overlapped, "in three attempts the two runs never overlapped"


def test_a_prune_concurrent_with_an_onboarding_leaves_no_orphan(fresh_control_plane, tmp_path):
    """Issue 11 item 10: a run with prune concurrent with one without deleted ten organizations the other reported
    onboarded, leaving orphaned Ready RepoBindings. Serialized, the cluster ends as the later run left it."""
    api = config.new_client_from_config(config_file=str(fresh_control_plane.admin_kubeconfig))
    kubeconfig = fresh_control_plane.admin_kubeconfig
    keep = [org("keeper")]
    keep_pipes = [pipeline("keeper-web", "keeper", "keeper/web")]
    extra = [org(f"extra{i}") for i in range(10)]
    extra_pipes = [pipeline(f"extra{i}-web", f"extra{i}", f"extra/web{i}") for i in range(10)]
    pruning = write_inventory(tmp_path / "prune", kubeconfig, aphex_organizations=keep, aphex_pipelines=keep_pipes,
                              aphex_prune_tenants=True)
    onboarding = write_inventory(tmp_path / "onboard", kubeconfig, aphex_organizations=keep + extra,
                                 aphex_pipelines=keep_pipes + extra_pipes)
    assert onboard(onboarding).returncode == 0
    prune_run = _start(pruning, "-e", "aphex_prune_confirm=20")
    onboard_run = _start(onboarding)
    prune_result, onboard_result = _finish(prune_run), _finish(onboard_run)
    assert prune_result.returncode == 0, prune_result.output
    assert onboard_result.returncode == 0, onboard_result.output
    bindings = list_labelled(api, "aphex.io/v1alpha1", "RepoBinding", "platform.aphex/managed-by=aphex-platform")
    live_bindings = {b["spec"]["aphexOrg"] for b in bindings if not b["metadata"].get("deletionTimestamp")}
    organizations = {o["metadata"]["name"] for o in list_labelled(
        api, "aphex.io/v1alpha1", "Organization", "platform.aphex/managed-by=aphex-platform")
        if not o["metadata"].get("deletionTimestamp")}
    assert live_bindings <= organizations  # no orphan
    later = onboard_result if _waited(onboard_result) > 0 else prune_result
    expected = {"keeper"} | ({f"extra{i}" for i in range(10)} if later is onboard_result else set())
    assert organizations == expected


def test_a_run_fails_clearly_while_another_holds_the_lock_and_takes_over_an_expired_one(
        platform_apis, control_plane, tmp_path):
    """Issue 11 item 10: the lock's refusal says who holds it and since when; a lock whose run died expires."""
    leases = dynamic.DynamicClient(platform_apis).resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    leases.create(namespace="kube-system", body={
        "metadata": {"name": "aphex-platform-run"},
        "spec": {"holderIdentity": "someone@elsewhere run abc", "leaseDurationSeconds": 3600,
                 "acquireTime": now, "renewTime": now}})
    try:
        inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig,
                                    aphex_organizations=[org(f"locked{unique_suffix()}")])
        refused = onboard(inventory, "-e", "aphex_lock_timeout=3")
        assert refused.returncode != 0
        message = module_result(refused, "Take the cluster's run lock")["msg"]
        assert message.startswith(f"another run holds the run lock of this cluster (Lease kube-system/aphex-platform-run, "
                                  f"held by someone@elsewhere run abc since {now}")
        assert "waited 3 s" in message
        old = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 7200))
        leases.patch(namespace="kube-system", name="aphex-platform-run", content_type="application/merge-patch+json",
                     body={"spec": {"renewTime": old, "acquireTime": old}})
        run = onboard(inventory)
        assert run.returncode == 0, run.output
        assert module_result(run, "Take the cluster's run lock")["taken_over"] == "someone@elsewhere run abc"
        assert get(platform_apis, "coordination.k8s.io/v1", "Lease", "aphex-platform-run", "kube-system") is None
    finally:
        if get(platform_apis, "coordination.k8s.io/v1", "Lease", "aphex-platform-run", "kube-system"):
            leases.delete(namespace="kube-system", name="aphex-platform-run")


# ------------------------------------------------------------------ item 11
def test_prune_with_an_inventory_that_was_not_loaded_is_refused(fresh_control_plane, tmp_path, audit_of):
    """Issue 11 item 11: a host whose host_vars were not loaded, with aphex_prune_tenants in group_vars, deleted every
    tenant (rc=0, 411 deletes) and --check did not refuse. Now the prune is refused, naming what would go."""
    kubeconfig = fresh_control_plane.admin_kubeconfig
    inventory = write_inventory(tmp_path / "inv", kubeconfig, aphex_organizations=[org("alpha"), org("beta")],
                                aphex_pipelines=[pipeline("alpha-web", "alpha", "alpha/web")])
    assert onboard(inventory).returncode == 0
    write_inventory(inventory, kubeconfig, aphex_prune_tenants=True)  # the host's tenant lists are gone
    audit = audit_of(fresh_control_plane)
    mark = audit.mark()
    for args in ((), ("--check",)):
        refused = onboard(inventory, *args)
        assert refused.returncode != 0
        assert module_result(refused, "Converge the organizations")["msg"] == (
            "refusing to prune 3 tenant(s) missing from the inventory: the inventory lists no tenants at all. It "
            "would remove organizations: alpha, beta; pipelines: alpha-web. If the inventory is complete and this "
            "is intended, run again with -e aphex_prune_confirm=3")
    assert tenant_writes(audit, mark, "aphex-admin") == []
    api = config.new_client_from_config(config_file=str(kubeconfig))
    assert get(api, "v1", "Namespace", "org-alpha") and get(api, "v1", "Namespace", "alpha-web")


@pytest.fixture
def audit_of():
    from harness.controlplane.audit import AuditLog

    return lambda plane: AuditLog(plane.audit_log)


# ------------------------------------------------------------------ item 12
def test_a_pipeline_re_added_while_its_namespace_terminates_is_recreated_after_the_deletion(
        platform_apis, control_plane, tmp_path, audit, admin_user):
    """Issue 11 item 12: re-added while its namespace was still Terminating, a pipeline got rc=0 and "unchanged"
    everywhere; 20 s later ten objects were gone while the RepoBinding said Ready."""
    s = unique_suffix()
    acme, web = f"term{s}", f"termweb{s}"
    core = client.CoreV1Api(platform_apis)
    listed = dict(aphex_organizations=[org(acme)], aphex_pipelines=[pipeline(web, acme, "acme/web")])
    inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig, **listed)
    assert onboard(inventory).returncode == 0
    # something in the namespace holds its deletion until the test lets go
    core.create_namespaced_config_map(web, {"metadata": {"name": "hold", "finalizers": ["aphex.test/hold"]}})
    removed = {**listed, "aphex_pipelines": [pipeline(web, acme, "acme/web", state="absent")]}
    write_inventory(inventory, control_plane.admin_kubeconfig, **removed)
    assert onboard(inventory).returncode == 0
    assert wait_for(lambda: (get(platform_apis, "v1", "Namespace", web) or {}).get("status", {}).get("phase")
                    == "Terminating", timeout=30)

    write_inventory(inventory, control_plane.admin_kubeconfig, **listed)
    preview = onboard(inventory, "--check")
    assert preview.returncode == 0, preview.output
    objects = module_result(preview, "Converge the pipelines")["objects"]
    assert {"action": "created", "kind": "Namespace", "name": web} in objects
    assert not [o for o in objects if o.get("namespace") == web and o["action"] == "unchanged"]

    refused = onboard(inventory, "-e", "aphex_deletion_timeout=2")
    assert refused.returncode != 0
    message = module_result(refused, "Converge the pipelines")["msg"]
    assert message.startswith("still being deleted after 2 s, so they cannot be created again yet: Namespace " + web)

    mark = audit.mark()
    process = _start(inventory, "-e", "aphex_deletion_timeout=300")
    # let the deletion finish only once the run is seen waiting for it (polling the namespace)
    assert wait_for(lambda: any(e.verb == "get" and e.resource == "namespaces" and e.name == web
                                for e in audit.events(since=mark, user=admin_user)), timeout=120)
    core.patch_namespaced_config_map("hold", web, {"metadata": {"finalizers": None}})
    run = _finish(process)
    assert run.returncode == 0, run.output
    namespace = get(platform_apis, "v1", "Namespace", web)
    assert namespace and not namespace["metadata"].get("deletionTimestamp")
    for kind, api_version, name in (("ConfigMap", "v1", "pipeline-context"), ("Role", "rbac.authorization.k8s.io/v1",
                                    "pipeline-runner"), ("Pipeline", "tekton.dev/v1", web)):
        assert get(platform_apis, api_version, kind, name, web) is not None, kind


# ------------------------------------------------------------------ item 13
def test_webhook_secret_is_adopted_without_its_labels_and_restored_from_copies(
        platform_apis, control_plane, tmp_path):
    """Issue 11 item 13: the organization's webhook secret was silently regenerated when its Secret lost the
    managed-by label (value overwritten) or was deleted (while both pipeline copies still held the old value)."""
    s = unique_suffix()
    acme = f"keep{s}"
    ns = f"org-{acme}"
    core = client.CoreV1Api(platform_apis)
    inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig, aphex_organizations=[org(acme)],
                                aphex_pipelines=[pipeline(f"keepa{s}", acme, "acme/a"),
                                                 pipeline(f"keepb{s}", acme, "acme/b")])
    assert onboard(inventory).returncode == 0
    original = _secret(platform_apis, ns)

    core.patch_namespaced_secret("github-webhook-secret", ns, {"metadata": {"labels": {
        "platform.aphex/managed-by": None}}})
    adopted = onboard(inventory)
    assert adopted.returncode == 0, adopted.output
    assert _secret(platform_apis, ns) == original
    assert (f"organization '{acme}': adopted the existing webhook Secret {ns}/github-webhook-secret, which was not "
            "labelled as managed by the platform; its value is kept") in _warnings(adopted)

    core.delete_namespaced_secret("github-webhook-secret", ns)
    restored = onboard(inventory)
    assert restored.returncode == 0, restored.output
    assert _secret(platform_apis, ns) == original
    assert [w for w in _warnings(restored) if "restored from its pipelines' copies" in w]

    core.delete_namespaced_secret("github-webhook-secret", ns)
    core.patch_namespaced_secret("github-webhook-secret", f"keepb{s}", {"data": {"secret": base64.b64encode(
        b"0" * 64).decode()}})
    disagree = onboard(inventory)
    assert disagree.returncode != 0
    assert "its pipelines' copies disagree" in module_result(disagree, "Converge the organizations")["msg"]
    assert _secret(platform_apis, ns) is None  # nothing generated behind the operator's back


# ------------------------------------------------------------------ item 14
def test_a_pipeline_dropped_from_the_list_without_prune_is_left_alone_and_reported(
        fresh_control_plane, tmp_path, audit_of):
    """Issue 11 item 14: dropping a pipeline from the list with prune off unhooked it from the EventListener while
    its namespace, Trigger and a Ready RepoBinding stayed."""
    api = config.new_client_from_config(config_file=str(fresh_control_plane.admin_kubeconfig))
    kubeconfig, audit = fresh_control_plane.admin_kubeconfig, audit_of(fresh_control_plane)
    acme, kept, dropped = "drop", "drop-keep", "drop-gone"
    inventory = write_inventory(tmp_path / "inv", kubeconfig, aphex_organizations=[org(acme)],
                                aphex_pipelines=[pipeline(kept, acme, "acme/a"), pipeline(dropped, acme, "acme/b")])
    assert onboard(inventory).returncode == 0
    write_inventory(inventory, kubeconfig, aphex_organizations=[org(acme)],
                    aphex_pipelines=[pipeline(kept, acme, "acme/a")])
    mark = audit.mark()
    run = onboard(inventory)
    assert run.returncode == 0 and run.changed == 0, run.output
    assert tenant_writes(audit, mark, "aphex-admin") == []
    listener = get(api, TRIGGERS, "EventListener", "github-listener", f"org-{acme}")
    assert listener["spec"]["namespaceSelector"]["matchNames"] == sorted([kept, dropped])
    assert get(api, TRIGGERS, "Trigger", f"{dropped}-trigger", f"org-{acme}") is not None
    assert ("pipelines in the cluster but not in the inventory, left as they are (aphex_prune_tenants: true "
            f"removes them): {dropped}") in _warnings(run, "Converge the pipelines")
    assert module_result(run, "Converge the pipelines")["unlisted"] == [dropped]
    summary = run.task_results("Summarise the tenants", HOST)[0]["msg"]
    assert f"in the cluster but not in the inventory (left as they are): {dropped}" in summary


# ------------------------------------------------------------------ item 15
def test_an_api_server_that_stops_is_named_with_the_step_and_object(bare_control_plane):
    """Issue 11 item 15: a killed API server gave urllib3's text, naming no object."""
    from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi, ClusterApiError

    api = ClusterApi(str(bare_control_plane.admin_kubeconfig), request_timeout=5)
    assert api.list("v1", "Namespace")
    [apiserver] = [c for c in bare_control_plane.recorded_state()["components"] if c["name"] == "kube-apiserver"]
    os.kill(apiserver["pid"], signal.SIGKILL)
    with pytest.raises(ClusterApiError) as failed:
        api.list("v1", "Secret", "platform.aphex/managed-by=aphex-platform")
    # pooled keep-alive connections see the server close them; new ones are refused
    assert str(failed.value) in (
        f"listing Secret failed: the API server {bare_control_plane.url} gave no answer ({cause}, timeout 5 s)"
        for cause in ("connection refused", "connection closed without an answer"))
    with pytest.raises(ClusterApiError) as failed:
        api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}})
    assert str(failed.value).startswith("applying ConfigMap default/x failed: the API server ")


def test_an_api_server_that_never_answers_fails_within_the_request_timeout(tmp_path, admin_api):
    """Issue 11 item 15: a server that accepts connections but never answers hung the run with no output.
    With the Kubernetes client's discovery cache of another cluster left at this address (a real cluster's, as a
    control plane that served on this port before would leave it), the run still connects, instead of trusting
    the cache and learning only at its first request that nothing answers (seen in CI on a reused port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # held open, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}"
    seed = tmp_path / "discovery.json"
    dynamic.DynamicClient(admin_api, cache_file=str(seed))
    stale = Path(tempfile.gettempdir()) / f"osrcp-{hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()}.json"
    shutil.copyfile(seed, stale)  # where the client's default cache for this address lives
    kubeconfig = tmp_path / "silent.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "silent",
        "clusters": [{"name": "silent", "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "silent", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "silent", "context": {"cluster": "silent", "user": "silent"}}]}))
    try:
        inventory = write_inventory(tmp_path / "inv", kubeconfig, aphex_organizations=[org("silent")])
        run = onboard(inventory, "-e", "aphex_request_timeout=3")
        assert run.returncode != 0
        message = module_result(run, "Take the cluster's run lock")["msg"]
        assert message.startswith(f"connecting to the API server (kubeconfig {kubeconfig.name} in {kubeconfig.parent}) "
                                  f"failed: the API server "
                                  f"{url} gave no answer (")
        assert message.endswith("timeout 3 s)")
        assert accepted  # the server was reached and kept silent
    finally:
        stale.unlink(missing_ok=True)
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


# ------------------------------------------------------------------ item 16
def test_with_prune_on_an_absent_organization_still_needs_cascade_and_the_summary_separates_removals(
        fresh_control_plane, tmp_path):
    """Issue 11 item 16: with prune on, state: absent without cascade was not refused (docs say it always is), and
    the summary listed pruned pipelines under "pipelines:"."""
    # a control plane of its own: with prune on, other tests' tenants would be unlisted and pruned
    platform_apis = config.new_client_from_config(config_file=str(fresh_control_plane.admin_kubeconfig))
    control_plane = fresh_control_plane
    s = unique_suffix()
    acme, bolt = f"pru{s}", f"prb{s}"
    everyone = dict(aphex_organizations=[org(acme), org(bolt)],
                    aphex_pipelines=[pipeline(f"pruweb{s}", acme, "acme/web"), pipeline(f"prbweb{s}", bolt, "b/web"),
                                     pipeline(f"prbapi{s}", bolt, "b/api")])
    inventory = write_inventory(tmp_path / "inv", control_plane.admin_kubeconfig, **everyone)
    assert onboard(inventory).returncode == 0
    write_inventory(inventory, control_plane.admin_kubeconfig, aphex_prune_tenants=True,
                    aphex_organizations=[org(acme, state="absent"), org(bolt)],
                    aphex_pipelines=[pipeline(f"prbweb{s}", bolt, "b/web"), pipeline(f"prbapi{s}", bolt, "b/api")])
    refused = onboard(inventory)
    assert refused.returncode != 0
    assert module_result(refused, "Converge the organizations")["msg"] == (
        f"organization '{acme}' still has pipelines pruweb{s}: remove them first or set cascade: true on the "
        "organization")
    assert get(platform_apis, "v1", "Namespace", f"pruweb{s}") is not None

    write_inventory(inventory, control_plane.admin_kubeconfig, aphex_prune_tenants=True,
                    aphex_organizations=[org(acme), org(bolt)],
                    aphex_pipelines=[pipeline(f"pruweb{s}", acme, "acme/web"), pipeline(f"prbweb{s}", bolt, "b/web")])
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    summary = run.task_results("Summarise the tenants", HOST)[0]["msg"]
    assert summary[2] == f"pipelines: pruweb{s}, prbweb{s}" or summary[2] == f"pipelines: prbweb{s}, pruweb{s}"
    assert summary[3] == f"removed: prbapi{s}"
