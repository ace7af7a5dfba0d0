"""Run a step of a TaskRun's pod on this machine, as its container would have run it: the container runtime's
stand-in for the catalog steps whose whole effect is on the API server. No container runs here (KWOK completes the
pods), so a deploy step would otherwise never act; this runs the very command Tekton put in the pod - its
entrypoint wrapper's `-entrypoint PROGRAM -- ARGS`, the Task's script with the run's parameters substituted by
Tekton - with the container's environment as the pod has it, as the pod's ServiceAccount (a token the TokenRequest
API issues for it, in a kubeconfig: in a pod, kubectl finds the mounted token instead), with the control plane's
kubectl first on PATH (the step's image is kubectl's).

What it does not reproduce: the image's filesystem, the pod's network and the step's ordering - KWOK has completed
the pod before the step runs here, so the TaskRun's result does not depend on it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.controlplane.cluster import ControlPlane
from harness.platform.as_deployed import Kubectl, environment

# The catalog's Tasks whose steps run here: their image is kubectl and their only effect is on the API server. The
# other catalog steps (clone, test, build) work on the workspace and the network, which no test platform provides.
ON_HOST_TASKS = ("argocd-application-v1",)
TEKTON_ENTRYPOINT = "/tekton/bin/entrypoint"


class StepError(Exception):
    pass


def step_command(container: dict) -> list:
    """The program and arguments Tekton's entrypoint wrapper would start for this step container."""
    if container.get("command") != [TEKTON_ENTRYPOINT]:
        raise StepError(f"{container['name']}: not started by Tekton's entrypoint: {container.get('command')}")
    args = container.get("args") or []
    if "--" not in args or "-entrypoint" not in args[:args.index("--")]:
        raise StepError(f"{container['name']}: no -entrypoint PROGRAM -- ARGS in {args[:12]}")
    separator = args.index("--")
    return [args[args.index("-entrypoint") + 1], *args[separator + 1:]]


def run_step(plane: ControlPlane, pod: dict, container_name: str, work: Path, timeout: float = 60):
    """Run the pod's step container CONTAINER_NAME here; returns the finished process (stdout, stderr, returncode).
    WORK: a folder for its kubeconfig and home."""
    container = next(c for c in pod["spec"]["containers"] if c["name"] == container_name)
    kubectl = Kubectl(str(plane.bin / "kubectl"), str(plane.admin_kubeconfig))
    work.mkdir(parents=True, exist_ok=True)
    namespace, account = pod["metadata"]["namespace"], pod["spec"].get("serviceAccountName") or "default"
    kubeconfig = kubectl.service_account_kubeconfig(namespace, account, str(work / f"{account}.kubeconfig"))
    env = {**environment(pod, container, kubectl), "PATH": f"{plane.bin}{os.pathsep}/usr/bin:/bin",
           "KUBECONFIG": kubeconfig, "HOME": str(work)}
    return subprocess.run(step_command(container), env=env, cwd=work, capture_output=True, text=True, check=False,
                          timeout=timeout)


def run_on_host_steps(plane: ControlPlane, api, run: dict, work: Path) -> dict:
    """Run on this machine the steps of RUN's TaskRuns whose Task is one of ON_HOST_TASKS, in the order the
    TaskRuns started: {"<pipeline task>/<step>": finished process}. A step that fails raises StepError with its
    output."""
    from kubernetes import client, dynamic

    task_runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="TaskRun").get(
        namespace=run["metadata"]["namespace"],
        label_selector=f"tekton.dev/pipelineRun={run['metadata']['name']}").to_dict()["items"]
    done = {}
    for task_run in sorted(task_runs, key=lambda t: (t.get("status") or {}).get("startTime") or ""):
        if task_run["metadata"]["labels"].get("tekton.dev/task") not in ON_HOST_TASKS:
            continue
        pod_name = task_run["status"]["podName"]
        pod = client.ApiClient().sanitize_for_serialization(
            client.CoreV1Api(api).read_namespaced_pod(pod_name, task_run["metadata"]["namespace"]))
        for container in pod["spec"]["containers"]:
            if not container["name"].startswith("step-"):
                continue
            label = f"{task_run['metadata']['labels']['tekton.dev/pipelineTask']}/{container['name']}"
            finished = run_step(plane, pod, container["name"], work / pod_name)
            if finished.returncode != 0:
                raise StepError(f"{label} exited with {finished.returncode}: {finished.stderr.strip()[-2000:]}")
            done[label] = finished
    return done
