"""`make bench`, third part: webhook deliveries through the real Tekton Triggers on the live test platform.

Ten organizations with a pipeline each are onboarded on a platform bootstrapped with the apps the tenant path needs
(as tests/integration/test_platform_tekton.py does); each organization's EventListener sink runs as its
`eventlistener` ServiceAccount. 100 valid, signed pushes - ten per organization - are sent at once from 20
threads. Each delivery's latency runs from the moment it was sent to the moment the API server created the run
labelled with its event ID (its audit log's record of the create); every delivery is accounted for (exactly one run, or the sink's answer), none lost,
none duplicated. Goal on this machine: p95 under 2 s, 100 of 100 accounted for. Then one push of a small
application to a pipeline running the catalog's build-and-deploy-v1, followed until ArgoCD has it Synced and
Healthy (harness/platform/push.py): push-to-Healthy, on the quiet platform before the burst and once more right
after it, while Tekton still works through the burst's runs.
"""
from __future__ import annotations

import base64
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import REPO, github

ORGANIZATIONS = [f"org{number:02d}" for number in range(10)]
PER_ORGANIZATION = 10
SENDERS = 20
KEPT = {"platform-crds", "platform-rbac", "tekton-pipelines", "tekton-triggers", "external-secrets",
        "pipeline-catalog"}
DEPLOYING, DEPLOYING_REPO = "org00-deploy", "org00-corp/deploy"
DEMO_REPOSITORY = REPO / "tools" / "demo-repository"


def created_at(audit_log: Path) -> dict:
    """{event ID: wall-clock time} of each PipelineRun a delivery made, from the API server's audit log: the create's
    ResponseComplete stage (to the microsecond), the event ID from the created object's labels (the control plane
    records PipelineRun creates with their response). When the run existed, however busy a watcher would be."""
    from datetime import datetime

    created = {}
    with open(audit_log, encoding="utf-8") as log:
        for line in log:
            if '"pipelineruns"' not in line or '"create"' not in line:
                continue
            try:
                event = json.loads(line)
            except ValueError:  # the line the API server is still writing
                continue
            labels = ((event.get("responseObject") or {}).get("metadata") or {}).get("labels") or {}
            event_id = labels.get("triggers.tekton.dev/triggers-eventid")
            if event.get("verb") == "create" and (event.get("responseStatus") or {}).get("code") == 201 and event_id:
                stamp = datetime.fromisoformat(event["stageTimestamp"].replace("Z", "+00:00")).timestamp()
                created[event_id] = min(stamp, created.get(event_id, stamp))
    return created


def runs_by_event(api) -> dict:
    """{event ID: [namespace/name of each PipelineRun it created]}, listed."""
    from kubernetes.client import CustomObjectsApi

    runs: dict[str, list] = {}
    for run in CustomObjectsApi(api).list_cluster_custom_object("tekton.dev", "v1", "pipelineruns")["items"]:
        metadata = run["metadata"]
        event_id = (metadata.get("labels") or {}).get("triggers.tekton.dev/triggers-eventid")
        if event_id:
            runs.setdefault(event_id, []).append(f"{metadata['namespace']}/{metadata['name']}")
    return runs


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from kubernetes import client

    from harness.gitserver import tree_of
    from harness.inventory import onboard, org, pipeline, write_inventory
    from harness.kube import wait_for
    from harness.platform.live import TEST_MODE, bootstrapped_platform, only_apps
    from harness.platform.push import push_and_follow
    from harness.platform.stack import PlatformStack

    with tempfile.TemporaryDirectory() as scratch, bootstrapped_platform(
            Path(scratch), "kind", TEST_MODE, aphex_apps_overrides=only_apps("kind", KEPT)) as platform:
        if platform["first"].returncode != 0:
            sys.exit(f"bootstrap failed:\n{platform['first'].output[-3000:]}")
        plane, api = platform["plane"], platform["api"]
        inventory = write_inventory(
            Path(scratch) / "tenants", plane.admin_kubeconfig, aphex_git_server_url=platform["info"]["git_server"],
            aphex_organizations=[org(name) for name in ORGANIZATIONS],
            aphex_pipelines=[pipeline(f"{name}-web", name, f"{name}-corp/web") for name in ORGANIZATIONS]
            + [pipeline(DEPLOYING, "org00", DEPLOYING_REPO,
                        pipeline=(REPO / "files/pipeline-catalog/v1/build-and-deploy.yaml").read_text())])
        # Tekton's webhooks must be serving before the tenants' Tekton objects are written (onboarding retries
        # nothing): wait for the configurations Tekton fills in itself.
        wait_for(lambda: all(w.client_config.ca_bundle for c in client.AdmissionregistrationV1Api(api)
                             .list_validating_webhook_configuration().items
                             if "tekton.dev" in c.metadata.name for w in c.webhooks), timeout=180)
        onboarded = onboard(inventory)
        if onboarded.returncode != 0:
            sys.exit(f"onboarding failed:\n{onboarded.output[-3000:]}")
        stack, core = PlatformStack(plane), client.CoreV1Api(api)
        listeners = {name: (stack.start_event_listener(name), base64.b64decode(
            core.read_namespaced_secret("github-webhook-secret", f"org-{name}").data["secret"]))
            for name in ORGANIZATIONS}
        # Push to Healthy on a quiet platform first; again after the burst, with its runs still in Tekton's queue.
        quiet = push_and_follow(plane, "org00", DEPLOYING_REPO, timeout=240, files=tree_of(DEMO_REPOSITORY))
        deliveries = [(name, f"{index:02d}{number:02d}" * 10) for index, name in enumerate(ORGANIZATIONS)
                      for number in range(PER_ORGANIZATION)]

        def send(delivery):
            name, revision = delivery
            url, secret = listeners[name]
            sent = time.time()
            answer = github.deliver(url, "push", github.push(f"{name}-corp/web", revision), secret)
            return name, sent, answer

        started = time.time()
        with ThreadPoolExecutor(SENDERS) as pool:
            answers = list(pool.map(send, deliveries))
        sent_in = time.time() - started
        accepted = {answer.json()["eventID"]: (name, sent) for name, sent, answer in answers if answer.status == 202}
        wait_for(lambda: set(accepted) <= set(runs_by_event(api)), timeout=120)  # what is still missing: lost
        time.sleep(2)  # a duplicate, had there been one, is created meanwhile
        runs = runs_by_event(api)
        created = created_at(plane.audit_log)
        first_runs = {event_id: created[event_id] for event_id in accepted if event_id in created}
        latencies = sorted(first_runs[event_id] - sent for event_id, (_organization, sent) in accepted.items()
                           if event_id in first_runs)
        duplicated = [event_id for event_id in accepted if len(runs.get(event_id, [])) > 1]
        lost = [event_id for event_id in accepted if not runs.get(event_id)]
        refused = [(name, answer.status, answer.body[:200]) for name, _sent, answer in answers if answer.status != 202]
        last_created = max(first_runs.values(), default=started)
        result = {
            "deliveries": len(deliveries), "organizations": len(ORGANIZATIONS), "senders": SENDERS,
            "accepted": len(accepted), "refused_by_the_sink": refused,
            "runs_created": sum(1 for event_id in accepted if runs.get(event_id)),
            "latencies_measured": len(latencies),
            "lost": lost, "duplicated": duplicated,
            "accounted_for": sum(1 for event_id in accepted if len(runs.get(event_id, [])) == 1) + len(refused),
            "latency_median_s": round(statistics.median(latencies), 2) if latencies else None,
            "latency_p95_s": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 2) if latencies else None,
            "latency_max_s": round(latencies[-1], 2) if latencies else None,
            "sent_in_s": round(sent_in, 2),
            "runs_per_second": round(len(latencies) / (last_created - started), 1) if latencies else None,
        }
        # A new commit (the same application, one more file beside it), so the deploy has a revision to go to.
        busy = push_and_follow(plane, "org00", DEPLOYING_REPO, timeout=240,
                               files={**tree_of(DEMO_REPOSITORY), "NOTES": "pushed after the burst\n"})
        result["push_to_healthy"] = quiet.get("application")
        result["push_to_healthy_after_the_burst"] = busy.get("application")
        # The processes' logs, for what the numbers do not say (why a delivery made no run, say).
        logs = REPO / "build" / "bench" / "webhooks-logs"
        shutil.rmtree(logs, ignore_errors=True)
        shutil.copytree(plane.dir / "logs", logs)
        result["logs"] = str(logs.relative_to(REPO))
        print(json.dumps(result, indent=2))
        goal = result["accounted_for"] == len(deliveries) and not lost and not duplicated and (
            result["latency_p95_s"] is not None and result["latency_p95_s"] < 2.0)
        print(f"\nwebhooks: {result['runs_created']}/{len(deliveries)} runs created, lost {len(lost)}, duplicated "
              f"{len(duplicated)}; latency median {result['latency_median_s']} s, p95 {result['latency_p95_s']} s, "
              f"max {result['latency_max_s']} s; goal (p95 < 2 s, all accounted for): {'met' if goal else 'MISSED'}")
        for label, key in (("quiet platform", "push_to_healthy"), ("after the burst", "push_to_healthy_after_the_burst")):
            application = result[key] or {}
            print(f"push to Healthy ({DEPLOYING}, {label}): {application.get('sync')} / {application.get('health')} "
                  f"after {application.get('seconds')} s")


if __name__ == "__main__":
    main()
