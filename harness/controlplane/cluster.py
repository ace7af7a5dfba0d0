"""Run etcd, kube-apiserver and kube-controller-manager on loopback for tests.

`make cluster-up` and the pytest session fixture both use ControlPlane: the
processes run detached (their own sessions) with their pids and executables
recorded in STATE_DIR/state.json, so `make cluster-down` - another process -
stops exactly what was started and nothing else.

STATE_DIR holds:
  admin.kubeconfig            cluster-admin (client cert, group system:masters)
  bin/kubectl                 the kubectl built with the control plane
  users/<name>.kubeconfig     non-admin users with no rights until bound (alice, bob)
  audit.log                   every request at Metadata level, one JSON event per line
  logs/<component>.log        component output
  pki/, etcd-data/, state.json
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import egress_guard
from .pki import IN_CLUSTER_NAMES, Pki, write_private

ADMIN_USER = "aphex-admin"
# Non-admin users every cluster gets; tests bind them to roles to check RBAC.
TEST_USERS = {"alice": ("aphex-testers",), "bob": ("aphex-testers",)}
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
# What the collection's tests rely on: namespace deletion, garbage collection,
# service accounts, aggregated admin/edit/view roles, quota status, workloads.
CONTROLLERS = (
    "namespace-controller", "garbage-collector-controller", "serviceaccount-controller",
    "serviceaccount-token-controller", "clusterrole-aggregation-controller",
    "root-ca-certificate-publisher-controller", "deployment-controller", "replicaset-controller",
    "statefulset-controller", "daemonset-controller", "job-controller", "cronjob-controller",
    "resourcequota-controller",
    # PodDisruptionBudget status, which ArgoCD's health of a chart's PDB reads.
    "disruption-controller",
)
# Every request once (at ResponseComplete), so tests can count writes. A PipelineRun's create with the object as
# created: its name comes from generateName, and its labels carry the delivery's event ID (make bench times each
# delivery to its run's create by them).
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: RequestResponse
    verbs: [create]
    resources: [{group: tekton.dev, resources: [pipelineruns]}]
  - level: Metadata
"""
# Every connection the kube-apiserver makes to the cluster network goes to the egress guard (refused and counted,
# or handed to a loopback port).
EGRESS_SELECTOR = """\
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
  - name: cluster
    connection:
      proxyProtocol: HTTPConnect
      transport:
        uds:
          udsName: {socket}
"""
# Files and folders `up` owns in the state directory and clears before starting.
OWNED = ("state.json", "bin", "admin.kubeconfig", "users", "internal", "audit.log", "audit-policy.yaml",
         "logs", "pki", "etcd-data", "internal-certs", "egress-selector.yaml", "egress-attempts.log",
         "egress-routes.json", "authentication-config.yaml",
         "platform", "platform.json")
BASE_COMPONENTS = {"egress-guard", "etcd", "kube-apiserver", "kube-controller-manager"}


def _file_stem(user: str) -> str:
    """A user name as a file name: KUBECONFIG-style path lists (the Python client's loader) split on ':', which
    ServiceAccount and SSO user names (oidc:<email>) hold."""
    return user.replace(":", "-")


class ControlPlaneError(RuntimeError):
    pass


def binaries() -> Path:
    """The bin folder: CONTROLPLANE_BIN, or build.sh's answer (instant when cached)."""
    if os.environ.get("CONTROLPLANE_BIN"):
        return Path(os.environ["CONTROLPLANE_BIN"])
    build = Path(__file__).resolve().parent / "build.sh"
    result = subprocess.run(["bash", str(build)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1])


def pinned_versions() -> dict:
    """The versions versions.env pins (K8S_VERSION, ETCD_VERSION, RECIPE_REV), as build.sh reads them unoverridden."""
    pins = {}
    for line in (Path(__file__).resolve().parent / "versions.env").read_text().splitlines():
        if line.startswith(': "${'):
            name, value = line.split("${", 1)[1].split("}", 1)[0].split(":=", 1)
            pins[name] = value
    return pins


def free_port(below: int | None = None) -> int:
    """A loopback port nothing listens on; `below`: one under that number (the kernel's own picks are 32768 and
    up), tried at random from 20000."""
    if below is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    for _attempt in range(200):
        port = random.randrange(20000, below)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ControlPlaneError(f"no free loopback port between 20000 and {below}")


def port_open(port: int) -> bool:
    """Something listens on the loopback port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def has_default_route() -> bool:
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return True
    return any(line.split()[1] == "00000000" for line in lines if len(line.split()) > 1)


def _process_is(pid: int, executable) -> bool:
    """True when pid is alive and still runs executable, or one of a list of them (a launcher that execs its
    program); pids get reused."""
    try:
        return os.readlink(f"/proc/{pid}/exe") in ([executable] if isinstance(executable, str) else executable)
    except OSError:
        return False


class ControlPlane:
    def __init__(self, state_dir, bin_dir=None, *, start_timeout: float = 90.0):
        self.dir = Path(state_dir).resolve()
        self.bin = Path(bin_dir).resolve() if bin_dir else None
        self.start_timeout = start_timeout
        self.pki = Pki(self.dir / "pki")
        self.state_file = self.dir / "state.json"
        self.admin_kubeconfig = self.dir / "admin.kubeconfig"
        self.audit_log = self.dir / "audit.log"
        self.egress_log = self.dir / "egress-attempts.log"
        self.egress_routes = self.dir / "egress-routes.json"
        # Unix socket paths are limited to 107 bytes; a pytest temporary folder can be longer.
        self.egress_socket = Path(tempfile.gettempdir()) / (
            "aphex-egress-" + hashlib.sha256(str(self.dir).encode()).hexdigest()[:16] + ".sock")
        self._state: dict = {"components": []}

    # ------------------------------------------------------------------ state
    def recorded_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {"components": []}

    def _save_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state, indent=2))
        tmp.replace(self.state_file)

    @property
    def url(self) -> str:
        return self.recorded_state().get("url", "")

    def running_components(self) -> list[str]:
        return [c["name"] for c in self.recorded_state()["components"] if _process_is(c["pid"], c["executable"])]

    def is_up(self) -> bool:
        state = self.recorded_state()
        if not state.get("url") or not BASE_COMPONENTS <= set(self.running_components()):
            return False
        return self._http_ok(state["url"] + "/readyz", self._serving_context())

    # ---------------------------------------------------------------- up/down
    def up(self) -> bool:
        """Start the control plane; False (and nothing done) when it is already up."""
        if self.is_up():
            return False
        if self.bin is None:
            raise ControlPlaneError("no control-plane binaries given (harness/controlplane/build.sh prints them)")
        self.down()  # leftovers of a half-dead cluster
        self.dir.mkdir(parents=True, exist_ok=True)
        for name in OWNED:
            target = self.dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        (self.dir / "logs").mkdir()
        self.pki.create()
        self._state = {"components": [], "bin": str(self.bin)}
        try:
            self._start_egress_guard()
            self._start_etcd()
            self._start_apiserver()
            self._write_kubeconfigs()
            self._start_controller_manager()
            # The matching kubectl, for people: .cluster/bin/kubectl get ns
            (self.dir / "bin").mkdir(exist_ok=True)
            (self.dir / "bin" / "kubectl").symlink_to(self.bin / "kubectl")
        except BaseException:
            self.down()
            raise
        return True

    def down(self) -> list[str]:
        """Stop every recorded component that still runs; return their names."""
        stopped = self.stop()
        if self.state_file.exists():
            self.state_file.unlink()
        return stopped

    def stop(self, names=None) -> list[str]:
        """Stop the recorded components (those named, or all) that still run, newest first, and forget them;
        return their names."""
        stopped = []
        state = self.recorded_state()
        kept = []
        for component in reversed(state["components"]):
            if names is not None and component["name"] not in names:
                kept.append(component)
                continue
            pid, executable = component["pid"], component["executable"]
            if not _process_is(pid, executable):
                continue
            os.killpg(pid, signal.SIGTERM)
            if not self._wait_exit(pid, executable, 20):
                os.killpg(pid, signal.SIGKILL)
                self._wait_exit(pid, executable, 10)
            stopped.append(component["name"])
        if names is not None and self.state_file.exists():
            state["components"] = list(reversed(kept))
            self._state = state
            self._save_state()
        return stopped

    @staticmethod
    def _wait_exit(pid: int, executable: str, timeout: float) -> bool:
        def reaped() -> bool:  # when it is our own child (the pytest fixture), so no zombie stays
            try:
                return os.waitpid(pid, os.WNOHANG)[0] == pid
            except ChildProcessError:  # not ours, or reaped already
                return True

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _process_is(pid, executable):
                # its exe link goes while it exits, a moment before it is a zombie that can be reaped
                while not reaped() and time.monotonic() < deadline:
                    time.sleep(0.01)
                return True
            time.sleep(0.1)
        return False

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, groups=()) -> Path:
        """A client-certificate user; returns its kubeconfig."""
        cert, key = self.pki.issue_client(name, groups=list(groups))
        folder = self.dir / "users"
        folder.mkdir(exist_ok=True)
        stem = _file_stem(name)
        (folder / f"{stem}.crt").write_bytes(cert)
        write_private(folder / f"{stem}.key", key)
        return self._write_kubeconfig(folder / f"{stem}.kubeconfig", name, folder / f"{stem}.crt",
                                      folder / f"{stem}.key")

    def user_kubeconfig(self, name: str) -> Path:
        return self.dir / "users" / f"{_file_stem(name)}.kubeconfig"

    def _write_kubeconfigs(self) -> None:
        internal = self.dir / "internal"
        internal.mkdir()
        for path, user, groups in (
            (self.admin_kubeconfig, ADMIN_USER, ("system:masters",)),
            (internal / "controller-manager.kubeconfig", CONTROLLER_MANAGER_USER, ()),
        ):
            cert, key = self.pki.issue_client(user, groups=groups)
            stem = _file_stem(user)
            (internal / f"{stem}.crt").write_bytes(cert)
            write_private(internal / f"{stem}.key", key)
            self._write_kubeconfig(path, user, internal / f"{stem}.crt", internal / f"{stem}.key")
        for name, groups in TEST_USERS.items():
            self.add_user(name, groups)

    def _write_kubeconfig(self, path: Path, user: str, cert: Path, key: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "aphex-test", "cluster": {
                "server": self._state["url"], "certificate-authority": str(self.pki.serving_ca)}}],
            "users": [{"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}],
            "contexts": [{"name": "aphex-test", "context": {"cluster": "aphex-test", "user": user}}],
            "current-context": "aphex-test",
        }
        write_private(path, json.dumps(config, indent=2).encode())  # JSON is YAML
        return path

    # -------------------------------------------------------------- processes
    def log_tail(self, name: str, size: int = 4000) -> str:
        path = self.dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def _spawn(self, name: str, argv: list[str], env=None, execs=None) -> subprocess.Popen:
        """Start a component; `execs`: the program a launcher (argv[0]) replaces itself with."""
        with open(self.dir / "logs" / f"{name}.log", "wb") as log:
            # A session of its own: it outlives `make cluster-up`, and
            # cluster-down signals its whole process group.
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=self.dir, start_new_session=True, env=env)
        # What /proc/<pid>/exe will say: the file behind any symlink (redis-server is one).
        executable = [os.path.realpath(argv[0]), os.path.realpath(execs)] if execs else os.path.realpath(argv[0])
        self._state["components"].append({"name": name, "pid": process.pid, "executable": executable})
        self._save_state()
        return process

    def _wait_ready(self, name: str, process: subprocess.Popen, probe) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ControlPlaneError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            if probe():
                return
            time.sleep(0.2)
        raise ControlPlaneError(f"{name} not ready after {self.start_timeout:.0f} s:\n{self.log_tail(name)}")

    def _serving_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.pki.serving_ca))

    @staticmethod
    def _http_ok(url: str, context=None, *, any_status: bool = False) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return any_status  # it answered, so it is serving
        except (OSError, ssl.SSLError):
            return False

    def _binary(self, name: str) -> str:
        path = self.bin / name
        if not os.access(path, os.X_OK):
            raise ControlPlaneError(f"{path} is missing or not executable; run harness/controlplane/build.sh")
        return str(path)

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self._state["etcd"] = etcd_url = f"http://127.0.0.1:{client}"
        argv = [
            self._binary("etcd"), "--name=aphex-test", f"--data-dir={self.dir / 'etcd-data'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=aphex-test=http://127.0.0.1:{peer}",
            # Test data is thrown away; fsync only slows the suite down.
            "--unsafe-no-fsync=true", "--log-level=warn",
        ]
        process = self._spawn("etcd", argv)
        self._wait_ready("etcd", process, lambda: self._http_ok(etcd_url + "/health"))

    def egress_attempts(self) -> list:
        """Connections the kube-apiserver tried to open to the cluster network (all refused)."""
        return egress_guard.attempts(self.egress_log)

    def egress_routed(self) -> list:
        """Connections the egress guard handed to a loopback port (a route in egress_routes, which
        harness/platform/as_deployed.py adds for a webhook served by a local process)."""
        return egress_guard.routed(self.egress_log)

    @property
    def egress_proxy(self) -> str:
        """The egress guard's loopback HTTP proxy, for the HTTPS_PROXY of a local process that stands in for an
        in-cluster controller: what it dials by in-cluster name reaches the API server or is refused and counted."""
        return self.recorded_state()["egress_proxy"]

    def _start_egress_guard(self) -> None:
        self.egress_log.touch()
        self.egress_routes.write_text("{}")
        port = free_port()
        self._state["egress_proxy"] = f"http://127.0.0.1:{port}"
        process = self._spawn("egress-guard", [os.path.realpath(sys.executable), egress_guard.__file__,
                                               str(self.egress_socket), str(self.egress_log),
                                               str(self.egress_routes), str(port)])
        self._wait_ready("egress-guard", process, lambda: self.egress_socket.exists() and port_open(port))
        (self.dir / "egress-selector.yaml").write_text(EGRESS_SELECTOR.format(socket=self.egress_socket))

    def _start_apiserver(self) -> None:
        port = free_port()
        self._state["url"] = url = f"https://127.0.0.1:{port}"
        self._save_state()
        # The in-cluster names of the API server (`kubernetes.default`, the Kubernetes provider's default server in
        # External Secrets) lead to it through the egress proxy, as a Service's name would in a cluster.
        for name in IN_CLUSTER_NAMES:
            egress_guard.add_route(self.egress_routes, f"{name}:443", port)
        (self.dir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        # The structured authentication configuration the collection's K3s and kind roles give theirs: no JWT issuer
        # until single sign-on is started (harness/platform/sso.py writes the platform Dex's in; the kube-apiserver
        # re-reads the file when it changes).
        from ansible_collections.aphex.platform.plugins.module_utils.platform.kube_sso import (
            authentication_configuration)

        self.write_authentication_config(authentication_configuration({}))
        sa_key = self.pki.service_account_key
        argv = [
            self._binary("kube-apiserver"),
            f"--etcd-servers={self._state['etcd']}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.dir / 'internal-certs'}",
            f"--tls-cert-file={self.pki.serving_cert}", f"--tls-private-key-file={self.pki.serving_key}",
            f"--client-ca-file={self.pki.client_ca}",
            "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_key}", f"--service-account-signing-key-file={sa_key}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            f"--audit-policy-file={self.dir / 'audit-policy.yaml'}",
            f"--audit-log-path={self.audit_log}", "--audit-log-format=json", "--audit-log-mode=blocking",
            f"--egress-selector-config-file={self.dir / 'egress-selector.yaml'}",
            f"--authentication-config={self.authentication_config}",
            # The watch cache keeps one cache per served version of a custom resource, filled by converting every
            # stored object: for a CRD with a conversion webhook (Tekton's) that is a call to the webhook whether
            # or not any client asks for the other version. Without it, only a request for another version would
            # convert, and none of the platform's clients makes one.
            "--watch-cache=false",
        ]
        if not has_default_route():
            # The advertise address only lands in the `kubernetes` Endpoints;
            # without a default route the apiserver cannot pick one itself.
            argv += ["--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none"]
        process = self._spawn("kube-apiserver", argv)
        self._wait_ready("kube-apiserver", process,
                         lambda: self._http_ok(url + "/readyz", self._serving_context()))

    @property
    def authentication_config(self) -> Path:
        return self.dir / "authentication-config.yaml"

    def write_authentication_config(self, configuration: dict) -> None:
        """Replace the kube-apiserver's authentication configuration; it takes effect once the kube-apiserver has
        reached every JWT issuer it names (it keeps the previous one until then)."""
        staged = self.authentication_config.with_suffix(".new")
        staged.write_text(json.dumps(configuration, indent=2))  # YAML is a superset of JSON
        staged.replace(self.authentication_config)

    def _start_controller_manager(self) -> None:
        port = free_port()
        kubeconfig = self.dir / "internal" / "controller-manager.kubeconfig"
        argv = [
            self._binary("kube-controller-manager"),
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.dir / 'internal-certs'}",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={self.pki.service_account_key}",
            f"--root-ca-file={self.pki.serving_ca}",
            # Each controller acts as its own service account, as in real clusters,
            # so the audit log tells its writes apart from the tests'.
            "--use-service-account-credentials=true",
        ]
        process = self._spawn("kube-controller-manager", argv)
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # its own self-signed loopback certificate
        self._wait_ready("kube-controller-manager", process, lambda: self._http_ok(
            f"https://127.0.0.1:{port}/healthz", insecure, any_status=True))
