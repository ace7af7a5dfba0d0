"""The platform layer of the test control plane: what a real cluster has and the API server alone does not, so a
real ArgoCD can sync the catalog and every app can become Healthy on loopback.

  chart mirror       the upstream charts of ../shared/charts as a Helm repository (and the Tekton release
                     manifests), served by `python -m http.server` on 127.0.0.1
  kube-scheduler     built with the control plane; places pods on the KWOK nodes
  kwok               KWOK's controller with its upstream Stage documents: fake nodes that stay Ready, pods that
                     become Ready (or Complete for Jobs), PersistentVolumeClaims provisioned and Bound
  redis-server       Debian's, ArgoCD's cache
  argocd-repo-server, argocd-application-controller
                     ArgoCD built from its Go module (harness/builds/build-argocd.sh), as local processes; the
                     controller acts as the ServiceAccount install.yaml binds, through a client certificate, and
                     starts once the bootstrap has installed ArgoCD (its CRDs and argocd-cm)
  cert-manager-controller
                     cert-manager's controllers from its Go module (harness/builds/build-cert-manager.sh) with the
                     selfSigned and CA issuers only; acts as the chart's ServiceAccount and starts once the
                     cert-manager app has installed its CRDs and RBAC
  tekton-*           Tekton Pipelines' controller, webhook and remote resolvers, Tekton Triggers' controller and
                     webhook, from their Go modules (harness/builds/build-tekton.sh); each starts once its app has
                     installed its Deployment, with that Deployment's environment and arguments, as its
                     ServiceAccount. The kube-apiserver reaches the two admission webhooks through the egress
                     guard, which hands their Services' cluster addresses to the processes' loopback ports

No container runs: KWOK only writes statuses, so nothing a chart deploys is ever dialled, and the kube-apiserver's
own egress to the cluster network is refused by the egress guard (harness/controlplane/egress_guard.py).
Every process is recorded in the control plane's state, so `make cluster-down` stops them all.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from harness import REPO
from harness.controlplane.cluster import ControlPlane, ControlPlaneError, free_port, port_open

# The builds and the chart mirror import Ansible and the Kubernetes client (the catalog, the release manifests):
# imported where they are used, so that asking whether the stack is up (every `make demo`) costs none of it.

BUILDS = REPO / "harness" / "builds"
HELM = ("helm", "helm.sh/helm/v4/cmd/helm", "v4.3.1")  # the version ArgoCD v3.6.1 pins
KWOK = ("kwok", "sigs.k8s.io/kwok/cmd/kwok", "v0.8.0")
# In front of the Tekton Dashboard (the tekton-dashboard-auth app). The oauth2-proxy chart 7.18.0 runs 7.11.0, whose
# module is not served; 7.15.6 is (docs/testing.md says what differs).
OAUTH2_PROXY = ("oauth2-proxy", "github.com/oauth2-proxy/oauth2-proxy/v7", "v7.15.6")
ARGOCD_NAMESPACE = "argocd"
ARGOCD_CONTROLLER = f"system:serviceaccount:{ARGOCD_NAMESPACE}:argocd-application-controller"
NODES = ("kwok-node-0", "kwok-node-1", "kwok-node-2")
# KWOK's upstream Stage documents (module sigs.k8s.io/kwok, kustomize/stage/...): nodes, pods, volumes.
KWOK_STAGES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
               "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml",
               "volume/fast/pv-bind.yaml", "volume/fast/pv-delete.yaml", "volume/fast/pvc-provision.yaml",
               "volume/fast/pvc-delete.yaml")
KWOK_STORAGE_CLASS = "volume/fast/storage-class.yaml"
# The test platform's own Stages: a TaskRun's pod completes (or a chosen step fails) - see the files.
TEKTON_POD_STAGES = sorted((Path(__file__).parent / "kwok").glob("*.yaml"))
CERT_MANAGER_NAMESPACE = "cert-manager"
# The ServiceAccount the cert-manager chart's controller Deployment runs as (the release is the app's name).
CERT_MANAGER_CONTROLLER = f"system:serviceaccount:{CERT_MANAGER_NAMESPACE}:cert-manager"
TEKTON_NAMESPACE = "tekton-pipelines"
# name (the upstream Deployment, and the binary build-tekton.sh names after it): the Service whose admission webhooks
# it serves and that Service's webhook port, if any.
TEKTON_COMPONENTS = {
    "tekton-pipelines-webhook": ("tekton-pipelines-webhook", 443),
    "tekton-pipelines-controller": (None, None),
    "tekton-pipelines-remote-resolvers": (None, None),
    "tekton-triggers-webhook": ("tekton-triggers-webhook", 443),
    "tekton-triggers-controller": (None, None),
    # Serves on :8443, the port its command fixes and the ClusterInterceptors name: one per machine at a time.
    "tekton-triggers-core-interceptors": (None, None),
}
# The Service names Tekton's own processes dial (the sink calls interceptors by their Service's name): resolved to
# 127.0.0.1 inside the sink (harness/builds/tekton/eventlistenersink/main.go), every other name refused there.
LOOPBACK_SERVICE_NAMES = ("tekton-triggers-core-interceptors.tekton-pipelines.svc",)
# The external-secrets app's controller (the chart's Deployment of the release's name), built from the source of the
# chart's app version in ../shared/upstream (harness/builds/build-from-source.sh).
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
EXTERNAL_SECRETS_VERSION = "v1.3.2"
# The dex chart's app version, built from its source in ../shared/upstream (harness/builds/build-from-source.sh).
DEX_VERSION = "v2.44.0"
PLATFORM_COMPONENTS = ("chart-mirror", "git-server", "kube-scheduler", "kwok", "redis", "argocd-repo-server",
                       "argocd-application-controller", "cert-manager-controller", *TEKTON_COMPONENTS,
                       "external-secrets", "aphex-tenant-controller")


def built(script: str, *args: str) -> Path:
    """The binary a build script of harness/builds prints last (built now, or from its cache)."""
    out = subprocess.run(["bash", str(BUILDS / script), *args], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def go_tool(name: str, package: str, version: str, toolchain: str = "local") -> Path:
    return built("go-tool.sh", name, package, version, toolchain)


def argocd_binary() -> Path:
    from harness.kube import ARGOCD_VERSION

    return built("build-argocd.sh", ARGOCD_VERSION)


def cert_manager_binary() -> Path:
    return built("build-cert-manager.sh")


def tekton_binaries() -> Path:
    return built("build-tekton.sh")


def external_secrets_binary() -> Path:
    # `go build .` links only the Kubernetes provider and the generators: every other provider is behind a build tag.
    return built("build-from-source.sh", "external-secrets", EXTERNAL_SECRETS_VERSION, ".")


def dex_binary() -> Path:
    return built("build-from-source.sh", "dex", DEX_VERSION, "./cmd/dex", f"-X main.version={DEX_VERSION}")


def build_tools() -> dict:
    """Every binary the platform stack and its single sign-on (harness/platform/sso.py) run, built now or taken
    from its cache, by name: the one list of them (`python -m harness.platform build` fills the caches ahead of the
    tests)."""
    return {"helm": go_tool(*HELM), "kwok": go_tool(*KWOK), "argocd": argocd_binary(),
            "cert-manager-controller": cert_manager_binary(), "tekton": tekton_binaries(),
            "external-secrets": external_secrets_binary(), "dex": dex_binary(), "oauth2-proxy": go_tool(*OAUTH2_PROXY)}


def module_dir(module: str) -> Path:
    """The extracted, checksum-verified source of a Go module (the KWOK Stage documents live there)."""
    out = subprocess.run(["go", "mod", "download", "-json", module], check=True, stdout=subprocess.PIPE,
                         text=True, cwd=REPO, env={**os.environ, "GOFLAGS": "-mod=mod", "GOWORK": "off"}).stdout
    return Path(json.loads(out)["Dir"])


def build_mirror(target: Path, helm: Path) -> Path:
    """A Helm repository of every chart archive in ../shared/charts (index.yaml by the pinned helm), with the
    Tekton release manifests beside it under releases/. Returns the folder."""
    from harness.platform.charts import SHARED_CHARTS
    from harness.platform.releases import build_release_manifests

    charts = target / "charts"
    if charts.exists():
        shutil.rmtree(charts)
    charts.mkdir(parents=True)
    for archive in sorted(SHARED_CHARTS.glob("*.tgz")):
        shutil.copy2(archive, charts / archive.name)
    subprocess.run([str(helm), "repo", "index", str(charts)], check=True, capture_output=True)
    build_release_manifests(target / "releases")
    return target


class PlatformStack:
    def __init__(self, plane: ControlPlane):
        self.plane = plane
        self.dir = plane.dir / "platform"
        self.state_file = plane.dir / "platform.json"

    @property
    def info(self) -> dict:
        """chart_mirror (URL), releases_dir, argocd_namespace, git_server (the tenants' Git server's URL: their
        repositories in place of GitHub's) and git_root (its repositories: harness/gitserver.py publishes there);
        empty when the stack is not up."""
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def is_up(self) -> bool:
        return bool(self.info) and set(PLATFORM_COMPONENTS) <= set(self.plane.running_components())

    def up(self) -> dict:
        if self.is_up():
            return self.info
        if not self.plane.is_up():
            raise ControlPlaneError("the control plane is not up")
        tools = build_tools()
        helm, kwok, argocd, cert_manager = (tools[name] for name in ("helm", "kwok", "argocd", "cert-manager-controller"))
        kwok_source = module_dir(f"sigs.k8s.io/kwok@{KWOK[2]}") / "kustomize" / "stage"
        self.down()  # leftovers of a stack that did not finish starting
        self.plane._state = self.plane.recorded_state()  # pylint: disable=protected-access
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            mirror = build_mirror(self.dir / "mirror", helm)
            info = {"chart_mirror": self._start_mirror(mirror) + "/charts", "releases_dir": str(mirror / "releases"),
                    "argocd_namespace": ARGOCD_NAMESPACE, "git_root": str(self.dir / "git"),
                    "git_server": self._start_git_server(self.dir / "git")}
            self._start_scheduler()
            self._start_kwok(kwok, kwok_source)
            redis = self._start_redis()
            repo_server = self._start_repo_server(argocd, helm, redis)
            self._start_application_controller(argocd, redis, repo_server)
            self._start_cert_manager(cert_manager)
            self._start_tekton(tools["tekton"], mirror, helm)
            self._start_external_secrets(tools["external-secrets"])
            self._start_tenant_controller()
        except BaseException:
            self.down()
            raise
        self.state_file.write_text(json.dumps(info, indent=2))
        return info

    def down(self) -> list:
        """Stop the stack's processes, leaving the control plane up."""
        if self.state_file.exists():
            self.state_file.unlink()
        return self.plane.stop(PLATFORM_COMPONENTS)

    # ------------------------------------------------------------ components
    def _kubectl(self, *args, stdin: str | None = None) -> str:
        return subprocess.run([str(self.plane.bin / "kubectl"), "--kubeconfig", str(self.plane.admin_kubeconfig),
                               *args], input=stdin, check=True, capture_output=True, text=True).stdout

    def _start_mirror(self, folder: Path) -> str:
        port = free_port()
        process = self.plane._spawn("chart-mirror", [  # pylint: disable=protected-access
            os.path.realpath(sys.executable), "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(folder),
            str(port)])
        url = f"http://127.0.0.1:{port}"
        self.plane._wait_ready("chart-mirror", process,  # pylint: disable=protected-access
                               lambda: self.plane._http_ok(url + "/charts/index.yaml"))  # pylint: disable=protected-access
        return url

    def _start_git_server(self, root: Path) -> str:
        root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        process = self.plane._spawn("git-server", [  # pylint: disable=protected-access
            os.path.realpath(sys.executable), str(REPO / "harness" / "gitserver.py"), str(root), str(port)],
            env={"PATH": "/usr/bin:/bin"})
        self.plane._wait_ready("git-server", process, lambda: port_open(port))  # pylint: disable=protected-access
        return f"http://127.0.0.1:{port}"

    def _start_scheduler(self) -> None:
        kubeconfig = self.plane.add_user("system:kube-scheduler")
        port = free_port()
        process = self.plane._spawn("kube-scheduler", [  # pylint: disable=protected-access
            self.plane._binary("kube-scheduler"), f"--kubeconfig={kubeconfig}",  # pylint: disable=protected-access
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={port}"])
        self.plane._wait_ready("kube-scheduler", process, lambda: port_open(port))  # pylint: disable=protected-access

    def _start_kwok(self, kwok: Path, stages: Path) -> None:
        documents = [{
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokConfiguration",
            "options": {"manageAllNodes": False, "manageNodesWithAnnotationSelector": "kwok.x-k8s.io/node=fake",
                        # Explicit: left at zero, the stages are never played.
                        "podPlayStageParallelism": 8, "nodePlayStageParallelism": 4, "nodeLeaseParallelism": 4,
                        "podsOnNodeSyncParallelism": 4, "nodeLeaseDurationSeconds": 40},
        }]
        for stage in KWOK_STAGES:
            documents += [d for d in yaml.safe_load_all((stages / stage).read_text()) if d]
        documents += [yaml.safe_load(path.read_text()) for path in TEKTON_POD_STAGES]
        config = self.dir / "kwok.yaml"
        config.write_text(yaml.safe_dump_all(documents))
        self._kubectl("apply", "--server-side", "-f", str(stages / KWOK_STORAGE_CLASS))
        # An identity of its own, so the audit log tells KWOK's node and pod updates from the tests' writes.
        kubeconfig = self.plane.add_user("kwok-controller", groups=("system:masters",))
        process = self.plane._spawn("kwok", [  # pylint: disable=protected-access
            str(kwok), f"--kubeconfig={kubeconfig}", f"--config={config}"])
        for name in NODES:
            self._kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                             "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                        "kubernetes.io/arch": "amd64", "type": "kwok",
                                        # ingress-nginx's host ports go to the node labelled like kind's.
                                        **({"ingress-ready": "true"} if name == NODES[0] else {})}},
                "spec": {}}))
        # The admission plugin TaintNodesByCondition taints a new node not-ready; the node-lifecycle controller,
        # which would lift it once KWOK reports Ready, is not part of this control plane.
        for name in NODES:
            self._kubectl("patch", "node", name, "--type=json", "-p",
                          '[{"op": "replace", "path": "/spec/taints", "value": []}]')

        def ready():
            out = self._kubectl("get", "nodes", "-l", "type=kwok", "-o",
                                "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Ready')].status}{' '}{end}")
            return out.split() == ["True"] * len(NODES)

        self.plane._wait_ready("kwok", process, ready)  # pylint: disable=protected-access

    def _start_redis(self) -> int:
        port = free_port()
        process = self.plane._spawn("redis", [  # pylint: disable=protected-access
            shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(port),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes"])
        self.plane._wait_ready("redis", process, lambda: port_open(port))  # pylint: disable=protected-access
        return port

    def _argocd_env(self, program: str, *tools: Path) -> dict:
        """TOOLS: programs the process runs by name (helm; the image's scripts beside ArgoCD's binary)."""
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        path = os.pathsep.join([*(str(tool.parent) for tool in tools), "/usr/bin", "/bin"])
        config = home / "app-config"  # what the container image keeps in /app/config
        for folder in ("tls", "ssh", "gpg", "plugin"):
            (config / folder).mkdir(parents=True, exist_ok=True)
        return {"PATH": path, "HOME": str(home), "ARGOCD_BINARY_NAME": program, "TMPDIR": str(self.dir),
                "ARGOCD_GPG_ENABLED": "false", "ARGOCD_TLS_DATA_PATH": str(config / "tls"),
                "ARGOCD_SSH_DATA_PATH": str(config / "ssh"), "ARGOCD_GNUPGHOME": str(config / "gpg"),
                "ARGOCD_PLUGINSOCKFILEPATH": str(config / "plugin"), "ARGOCD_APP_CONFIG_PATH": str(config),
                "HELM_CACHE_HOME": str(home / "helm-cache"), "HELM_CONFIG_HOME": str(home / "helm-config"),
                "HELM_DATA_HOME": str(home / "helm-data")}

    def _start_repo_server(self, argocd: Path, helm: Path, redis: int) -> int:
        port, metrics = free_port(), free_port()
        process = self.plane._spawn("argocd-repo-server", [  # pylint: disable=protected-access
            str(argocd), "--address", "127.0.0.1", "--port", str(port), "--metrics-address", "127.0.0.1",
            "--metrics-port", str(metrics), "--redis", f"127.0.0.1:{redis}", "--loglevel", "info",
            "--logformat", "text"], env=self._argocd_env("argocd-repo-server", argocd, helm))
        self.plane._wait_ready("argocd-repo-server", process, lambda: port_open(port))  # pylint: disable=protected-access
        return port

    def _start_application_controller(self, argocd: Path, redis: int, repo_server: int) -> None:
        kubeconfig = self.plane.add_user(ARGOCD_CONTROLLER, groups=(
            "system:serviceaccounts", f"system:serviceaccounts:{ARGOCD_NAMESPACE}"))
        env = {**self._argocd_env("argocd-application-controller"), "KUBECONFIG": str(kubeconfig),
               "ARGOCD_FAKE_IN_CLUSTER": "true"}
        argv = [str(argocd), "--kubeconfig", str(kubeconfig), "--namespace", ARGOCD_NAMESPACE,
                "--redis", f"127.0.0.1:{redis}", "--repo-server", f"127.0.0.1:{repo_server}",
                "--metrics-port", str(free_port()), "--application-namespaces", "*",
                "--status-processors", "10", "--operation-processors", "10",
                # ArgoCD refreshes an app on its resources' events, but CRDs carry no tracking label: a CRD that
                # becomes Established is seen at the next periodic refresh (2 min and up to 1 min of jitter by
                # default), and every wave that installs CRDs would wait that long.
                "--app-resync", "10", "--app-resync-jitter", "2",
                "--loglevel", "info", "--logformat", "text"]
        # ArgoCD is the bootstrap's to install: the controller starts once its CRDs and argocd-cm exist.
        self._spawn_once_installed("argocd-application-controller", argv, env, (
            "crd/applications.argoproj.io", f"{ARGOCD_NAMESPACE}/configmap/argocd-cm"))

    def _start_cert_manager(self, binary: Path) -> None:
        kubeconfig = self.plane.add_user(CERT_MANAGER_CONTROLLER, groups=(
            "system:serviceaccounts", f"system:serviceaccounts:{CERT_MANAGER_NAMESPACE}"))
        argv = [str(binary), "--kubeconfig", str(kubeconfig), "--cluster-resource-namespace", CERT_MANAGER_NAMESPACE]
        # The cert-manager app (wave 10) installs the CRDs and binds the ServiceAccount's roles.
        self._spawn_once_installed("cert-manager-controller", argv, {"PATH": "/usr/bin:/bin"}, (
            "crd/certificates.cert-manager.io", "clusterrolebinding/cert-manager-controller-certificates"))

    def _tekton_webhook_configurations(self, mirror: Path, helm: Path) -> dict:
        """The webhook configurations the tekton-pipelines and tekton-triggers apps install - the chart rendered as
        ArgoCD renders it, the release manifest from the mirror - by the Service they call."""
        from harness.platform.catalog import catalog_entries, folder_documents, role_defaults
        from harness.platform.render import group_kind, render

        entry = next(e for e in catalog_entries() if e["name"] == "tekton-pipelines")
        chart = entry["source"]["helm"]
        documents = render(helm, entry["name"], {
            "source": {"chart": chart["chart"], "targetRevision": chart["version"],
                       "helm": {"valuesObject": chart.get("values") or {}}},
            "destination": {"namespace": entry["namespace"]}}, mirror / "charts")
        triggers = role_defaults()["platform_release_manifests"]["tekton-triggers"]
        documents += folder_documents(mirror / "releases" / "tekton-triggers" / triggers["version"])
        by_service = {}
        for document in documents:
            if group_kind(document) in {("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
                                        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration")}:
                services = {w["clientConfig"]["service"]["name"] for w in document["webhooks"]}
                assert len(services) == 1, document["metadata"]["name"]
                by_service.setdefault(services.pop(), []).append(document)
        return by_service

    def _start_tekton(self, binaries: Path, mirror: Path, helm: Path) -> None:
        ports = ("PROBES_PORT", "PROFILING_PORT")
        webhooks = self._tekton_webhook_configurations(mirror, helm)
        for name, (service, service_port) in TEKTON_COMPONENTS.items():
            # A ServiceAccount token rather than a client certificate: a certificate's common name holds 64
            # characters, fewer than system:serviceaccount:tekton-pipelines:tekton-pipelines-controller.
            options = ["--identity", str(self.dir / f"{name}.kubeconfig"), "--set", "METRICS_PROMETHEUS_HOST=127.0.0.1",
                       "--set", f"POD_NAME={name}-local"]
            for variable in ports:
                options += ["--set", f"{variable}={free_port()}"]
            # Knative parses this one as a signed 16-bit number: a port from the kernel's ephemeral range is refused.
            # Left as released for the Triggers controller, which copies it into every EventListener's Deployment.
            if name != "tekton-triggers-controller":
                options += ["--set", f"METRICS_PROMETHEUS_PORT={free_port(below=32768)}"]
            if service:
                webhook_port = free_port()
                configurations = self.dir / f"{name}-webhooks.yaml"
                configurations.write_text(yaml.safe_dump_all(webhooks[service]))
                options += ["--set", f"WEBHOOK_PORT={webhook_port}", "--route", f"{service}:{service_port}={webhook_port}",
                            "--routes", str(self.plane.egress_routes), "--apply", str(configurations)]
            self._spawn_as_deployed(name, f"{TEKTON_NAMESPACE}/{name}", options, binaries / name)

    def _start_external_secrets(self, binary: Path) -> None:
        """The controller as the chart's Deployment runs it, as its ServiceAccount. The Kubernetes provider dials
        each store's server - `kubernetes.default` unless the store names one - through HTTPS_PROXY: the egress
        guard's loopback proxy routes the API server's in-cluster names to it and refuses anything else. Its
        admission webhook and cert-controller are not run: the test platform's ArgoCD applies no webhook
        configuration, so nothing calls them."""
        options = ["--identity", str(self.dir / "external-secrets.kubeconfig"),
                   "--set", f"HTTPS_PROXY={self.plane.egress_proxy}", "--set", f"HTTP_PROXY={self.plane.egress_proxy}",
                   "--set", "NO_PROXY=127.0.0.1,localhost"]
        self._spawn_as_deployed(
            "external-secrets", f"{EXTERNAL_SECRETS_NAMESPACE}/external-secrets", options, binary,
            # After the Deployment's own arguments, so these win: its addresses listen on every interface.
            f"--metrics-addr=127.0.0.1:{free_port()}", f"--live-addr=127.0.0.1:{free_port()}")

    def _start_tenant_controller(self) -> None:
        """The collection's own tenant controller, once the tenant-controller app (when enabled) has installed its
        Deployment: this checkout's controller/ in place of the image built from it, with the Deployment's arguments
        and environment (its settings ConfigMap), as its ServiceAccount."""
        program = self.dir / "aphex-tenant-controller"
        program.write_text(f"#!{sys.executable}\n# what the image's entry point runs, from this checkout\n"
                           f"import runpy, sys\nsys.path.insert(0, {str(REPO / '.collections')!r})\n"
                           "runpy.run_module('ansible_collections.aphex.platform.controller', run_name='__main__')\n")
        program.chmod(0o755)
        self._spawn_as_deployed("aphex-tenant-controller", "platform-system/aphex-tenant-controller",
                                ["--identity", str(self.dir / "aphex-tenant-controller.kubeconfig")], program,
                                execs=os.path.realpath(sys.executable))

    def start_event_listener(self, organization: str, log_level: str | None = None) -> str:
        """Run an organization's EventListener sink - Tekton Triggers' sink, with the environment and arguments of
        the Deployment Tekton's controller made for the organization's EventListener, as that Deployment's
        ServiceAccount (the organization's `eventlistener`) - on a loopback port; returns its URL, once it serves.
        The Tunnel's path ends there: cloudflared would forward a delivery to the Service in front of it.
        `log_level` debug: the sink logs why an interceptor stopped a delivery (upstream answers every delivery
        202 before its triggers are evaluated, and logs that reason at debug level only)."""
        from ansible_collections.aphex.platform.plugins.module_utils.naming import EVENTLISTENER_NAME, org_namespace

        namespace = org_namespace(organization)
        name = f"el-{namespace}"
        port = free_port()
        options = ["--identity", str(self.dir / f"{name}.kubeconfig"),
                   "--set", f"APHEX_LOOPBACK_NAMES={','.join(LOOPBACK_SERVICE_NAMES)}",
                   "--set", "METRICS_PROMETHEUS_HOST=127.0.0.1",
                   "--set", f"METRICS_PROMETHEUS_PORT={free_port(below=32768)}", "--set", f"PROFILING_PORT={free_port()}"]
        if log_level:
            options += ["--set", "K_LOGGING_CONFIG=" + json.dumps({
                "zap-logger-config": json.dumps({"level": log_level, "encoding": "json", "outputPaths": ["stdout"],
                                                 "errorOutputPaths": ["stderr"],
                                                 "encoderConfig": {"messageKey": "message", "levelKey": "severity",
                                                                   "timeKey": "timestamp", "nameKey": "logger",
                                                                   "levelEncoder": "", "timeEncoder": "iso8601"}}),
                "loglevel.eventlistener": log_level})]
        self.plane._state = self.plane.recorded_state()  # pylint: disable=protected-access
        process = self._spawn_as_deployed(name, f"{namespace}/el-{EVENTLISTENER_NAME}", options,
                                          tekton_binaries() / "tekton-triggers-eventlistenersink", f"--port={port}")
        url = f"http://127.0.0.1:{port}"
        self.plane._wait_ready(name, process, lambda: self.plane._http_ok(url + "/live"))  # pylint: disable=protected-access
        (self.dir / f"{name}.url").write_text(url)
        return url

    def event_listener_url(self, organization: str) -> str:
        """The URL of an organization's sink start_event_listener started."""
        from ansible_collections.aphex.platform.plugins.module_utils.naming import org_namespace

        return (self.dir / f"el-{org_namespace(organization)}.url").read_text()

    def _spawn_as_deployed(self, name: str, deployment: str, options: list, binary: Path, *arguments: str,
                           execs: str | None = None):
        """Start BINARY as the Deployment NAMESPACE/NAME runs its container (harness/platform/as_deployed.py:
        OPTIONS are its options; ARGUMENTS follow the Deployment's own; EXECS what BINARY itself runs, when it is
        a script); raises when the launcher exits at once (options it refuses)."""
        launcher = [os.path.realpath(sys.executable), str(Path(__file__).parent / "as_deployed.py"),
                    str(self.plane.bin / "kubectl"), str(self.plane.admin_kubeconfig), deployment, *options, "--",
                    str(binary), *arguments]
        process = self.plane._spawn(name, launcher, env={"PATH": "/usr/bin:/bin"},  # pylint: disable=protected-access
                                    execs=execs or str(binary))
        time.sleep(0.2)
        if process.poll() is not None:
            raise ControlPlaneError(f"{name}'s launcher exited:\n{self.plane.log_tail(name)}")
        return process

    def _spawn_once_installed(self, name: str, argv: list, env: dict, objects: tuple) -> None:
        # The wait reads as the administrator: a controller's own identity may not read CRDs (cert-manager's).
        launcher = [os.path.realpath(sys.executable), str(Path(__file__).parent / "await_installed.py"),
                    str(self.plane.bin / "kubectl"), str(self.plane.admin_kubeconfig), *objects, "--", *argv]
        process = self.plane._spawn(name, launcher, env=env, execs=argv[0])  # pylint: disable=protected-access
        time.sleep(0.5)
        if process.poll() is not None:
            raise ControlPlaneError(f"{name}'s launcher exited:\n{self.plane.log_tail(name)}")
