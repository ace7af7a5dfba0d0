"""The tenant controller (controller/) as the tests and the demo run it: a process on this machine with the identity
its Deployment's pod has - the ServiceAccount platform-system/aphex-tenant-controller, a token the TokenRequest API
issues for it - against the local control plane. There is no container runtime here; the process stands where the
pod would, with the same arguments (the settings file its ConfigMap holds)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from harness import REPO
from harness.kube import wait_for
from harness.platform.as_deployed import Kubectl

NAMESPACE = "platform-system"
ACCOUNT = "aphex-tenant-controller"
IDENTITY = f"system:serviceaccount:{NAMESPACE}:{ACCOUNT}"
STARTED = "Activity 'configure' succeeded"


def reconciles(events) -> int:
    """How many reconciles the controller's requests (audit events) stand for: a RepoBinding's begins by reading its
    Organization, an Organization's lists its webhook Secret in its namespace (one reconcile at a time, so how many
    ran is what the timers managed, not objects x rounds)."""
    return sum(1 for e in events if (e.verb, e.resource) == ("get", "organizations")
               or (e.verb == "list" and e.resource == "secrets" and e.namespace))


class TenantController:
    def __init__(self, plane, folder: Path, settings: dict, drift_interval: float = 60.0, workers: int = 4):
        self.plane = plane
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.settings_file = self.folder / "tenancy.yml"
        self.settings_file.write_text(yaml.safe_dump(settings))
        self.kubeconfig = self.folder / "controller.kubeconfig"
        self.log = self.folder / "controller.log"
        self.drift_interval = drift_interval
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self) -> "TenantController":
        Kubectl(str(self.plane.bin / "kubectl"), str(self.plane.admin_kubeconfig)).service_account_kubeconfig(
            NAMESPACE, ACCOUNT, str(self.kubeconfig))
        environment = {**os.environ, "PYTHONPATH": str(REPO / ".collections"), "KUBECONFIG": str(self.kubeconfig)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ansible_collections.aphex.platform.controller", "--kubeconfig",
                 str(self.kubeconfig), "--settings", str(self.settings_file), "--drift-interval",
                 str(self.drift_interval), "--workers", str(self.workers)],
                cwd=self.folder, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        # Kopf logs its startup activity (configure: settings, the published quota) before it watches
        assert wait_for(lambda: self.process.poll() is not None or STARTED in self.text(), timeout=60), self.text()
        assert self.process.poll() is None, self.text()
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()
