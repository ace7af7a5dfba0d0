"""A push to a tenant's repository, as GitHub would deliver it, through the organization's EventListener on the
test platform: `python -m harness.platform push ORG OWNER/REPO [--from FOLDER]` (make demo's last step). Starts the
organization's sink if it is not running, signs the delivery with the organization's webhook secret (read from the
cluster, never printed), then follows the PipelineRun it created until it finishes. With a FOLDER, its files are
first committed to the repository on the test platform's Git server (harness/gitserver.py) and the push names that
commit; once the run finished, its deploy step runs as its container would (harness/platform/steps.py) and the
Application it wrote is followed until ArgoCD has it Synced and Healthy at that commit."""
from __future__ import annotations

import base64
import time

from kubernetes import client, config, dynamic

from harness import github
from harness.controlplane.cluster import ControlPlane
from harness.platform.stack import PlatformStack


def pipeline_runs(api, event_id: str) -> list:
    """The PipelineRuns, in any namespace, that the delivery with this EventListener event ID created."""
    runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="PipelineRun")
    return runs.get(label_selector=f"triggers.tekton.dev/triggers-eventid={event_id}").to_dict()["items"]


def push_and_follow(plane: ControlPlane, organization: str, repository: str, revision: str | None = None,
                    timeout: float = 120, files: dict | None = None) -> dict:
    """{event_id, run (namespace/name), status, reason, message, seconds, task_runs: {task: reason}}; with FILES
    ({path: text}, committed first; REVISION is that commit), also {revision, application: {name, sync, health,
    seconds}}."""
    from ansible_collections.aphex.platform.plugins.module_utils.naming import org_namespace

    api = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    name = f"el-{org_namespace(organization)}"
    stack = PlatformStack(plane)
    url = (stack.event_listener_url(organization) if name in plane.running_components()
           else stack.start_event_listener(organization))
    secret = client.CoreV1Api(api).read_namespaced_secret("github-webhook-secret", org_namespace(organization))
    server = github.GITHUB
    if files is not None:
        from harness.gitserver import publish

        revision, server = publish(stack.info["git_root"], repository, files), stack.info["git_server"]
    started = time.monotonic()
    answer = github.deliver(url, "push", github.push(repository, revision, server=server),
                            base64.b64decode(secret.data["secret"]))
    if answer.status != 202:
        raise RuntimeError(f"the EventListener answered {answer.status}: {answer.body}")
    event_id = answer.json()["eventID"]
    resources = dynamic.DynamicClient(api).resources
    deadline = started + timeout
    while time.monotonic() < deadline:
        found = pipeline_runs(api, event_id)
        conditions = {c["type"]: c for run in found for c in (run.get("status") or {}).get("conditions") or []}
        if found and conditions.get("Succeeded", {}).get("status") in ("True", "False"):
            run, condition = found[0], conditions["Succeeded"]
            task_runs = resources.get(api_version="tekton.dev/v1", kind="TaskRun").get(
                namespace=run["metadata"]["namespace"],
                label_selector=f"tekton.dev/pipelineRun={run['metadata']['name']}").to_dict()["items"]
            result = {"event_id": event_id, "run": f"{run['metadata']['namespace']}/{run['metadata']['name']}",
                      "status": condition["status"], "reason": condition["reason"], "message": condition["message"],
                      "seconds": round(time.monotonic() - started, 1), "revision": revision,
                      "task_runs": {t["metadata"]["labels"].get("tekton.dev/pipelineTask", t["metadata"]["name"]):
                                    t["status"]["conditions"][0]["reason"] for t in task_runs}}
            if files is not None and condition["status"] == "True":
                result["application"] = deployed(plane, api, run, revision, started, deadline)
            return result
        time.sleep(0.5)
    raise RuntimeError(f"no finished PipelineRun for delivery {answer.delivery} (event {event_id}) "
                       f"after {timeout:.0f} s")


def deployed(plane: ControlPlane, api, run: dict, revision: str, started: float, deadline: float) -> dict:
    """Run the run's deploy step here, then follow the Application it wrote (named like the pipeline's namespace,
    in it: the catalog's argocd-application-v1) until ArgoCD has it Synced and Healthy at REVISION, or the
    deadline: {name, sync, health, seconds}."""
    from harness.platform.steps import run_on_host_steps

    namespace = run["metadata"]["namespace"]
    run_on_host_steps(plane, api, run, plane.dir / "steps")
    applications = dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    state = {}
    while time.monotonic() < deadline:
        status = applications.get(name=namespace, namespace=namespace).to_dict().get("status") or {}
        sync, health = status.get("sync") or {}, status.get("health") or {}
        state = {"name": f"{namespace}/{namespace}", "sync": sync.get("status"), "health": health.get("status"),
                 "seconds": round(time.monotonic() - started, 1)}
        if (state["sync"], state["health"], sync.get("revision")) == ("Synced", "Healthy", revision):
            return state
        time.sleep(0.5)
    return state
