"""Single sign-on on the test platform (issue 24): the platform's Dex as the collection renders it, behind it an
identity provider standing in for Authentik, and nothing but loopback between them.

The platform's Dex: the `dex` app's chart rendered by the pinned Helm with the values the catalog renders (as
ArgoCD's repo-server renders it: harness/platform/render.py), its ServiceAccount and RBAC applied, and its config
Secret's `config.yaml` run by Dex built from ../shared/upstream (harness/builds/build-from-source.sh) as that
ServiceAccount (a TokenRequest token), with the Deployment's environment (`dex-secrets`). Two things differ from
the Deployment, both because no pod runs here: the `kubernetes` storage's `inCluster` becomes `kubeConfigFile` (the
ServiceAccount's kubeconfig), and the listening addresses are loopback ports. The connector dials Authentik by the
in-cluster name the collection renders; HTTP_PROXY is the egress guard's loopback proxy, which routes that one name
to the stand-in and refuses - and counts - anything else, and the build fails every DNS query in the process.

The stand-in for Authentik (which cannot run here: no image, and its source is not in ../shared) is a second Dex of
the same build, configured from the rendered blueprint (`authentik-blueprint-dex`), never retyped: its issuer is
the per-provider issuer Authentik derives for the blueprint's application at the address Dex calls, its one OAuth
client is the blueprint's provider (client id, redirect URIs; the secret from the Secret key the `auth` app's
values hand Authentik for the blueprint's `!Env`), and its users and groups are the blueprint's (plus any the
test adds). It authenticates nobody itself: Dex's `authproxy` connector takes the user and groups from the front
in front of it (harness/platform/idp_front.py), which checks the user's password, serves Authentik's public
authorization path and never shows the in-cluster name to the browser. What this does not prove about Authentik
is in docs/testing.md.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from harness.controlplane import egress_guard
from harness.controlplane.cluster import ControlPlane, ControlPlaneError, free_port, port_open
from harness.controlplane.pki import CertificateAuthority, write_private

SSO_NAMESPACE = "auth-system"
DEX_APP = "dex"
BLUEPRINT_SET, BLUEPRINT_CONFIGMAP = "auth-config", "authentik-blueprint-dex"
AUTHENTIK_APP = "auth"
DASHBOARD_AUTH_APP = "tekton-dashboard-auth"
COMPONENTS = ("authentik-stand-in", "authentik-front", "dex", "tekton-dashboard-stand-in", "oauth2-proxy",
              "argocd-redis", "argocd-server")
ARGOCD_NAMESPACE, ARGOCD_SERVER = "argocd", "argocd-server"


class _BlueprintLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """Authentik's blueprint tags (!Find, !KeyOf, !Env) read as {"!Tag": value}."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        return {f"!{suffix}": loader.construct_sequence(node, deep=True)}
    return {f"!{suffix}": loader.construct_scalar(node)}


_BlueprintLoader.add_multi_constructor("!", _tagged)


def blueprint_identities(blueprint_text: str) -> dict:
    """What the blueprint declares for sign-in: {groups: [name], users: {username: [group]}, client: {id,
    secret_env, redirect_uris}, slug} (the application's slug, which Authentik's per-provider issuer ends with)."""
    entries = yaml.load(blueprint_text, Loader=_BlueprintLoader)["entries"]  # noqa: S506 - SafeLoader subclass
    groups = {entry.get("id"): entry["attrs"]["name"] for entry in entries if entry["model"] == "authentik_core.group"}

    def group_name(reference):
        if "!KeyOf" in reference:
            return groups[reference["!KeyOf"]]
        model, (field, value) = reference["!Find"]
        if model != "authentik_core.group" or field != "name":
            raise ValueError(f"the blueprint names a group by {model}.{field}")
        return value

    users = {entry["identifiers"]["username"]: [group_name(g) for g in entry["attrs"].get("groups", [])]
             for entry in entries if entry["model"] == "authentik_core.user"}
    [provider] = [entry["attrs"] for entry in entries if entry["model"] == "authentik_providers_oauth2.oauth2provider"]
    [application] = [entry["attrs"] for entry in entries if entry["model"] == "authentik_core.application"]
    return {"groups": sorted(set(groups.values())), "users": users, "slug": application["slug"],
            "client": {"id": provider["client_id"], "secret_env": provider["client_secret"]["!Env"],
                       "redirect_uris": [uri["url"] for uri in provider["redirect_uris"]]}}


def _address(url) -> str:
    """HOST:PORT a client dials for a split URL (the scheme's port when it names none)."""
    return f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _secret_value(kubectl, namespace: str, name: str, key: str) -> str:
    found = kubectl.get(f"{namespace}/secret/{name}")
    if found is None or key not in (found.get("data") or {}):
        raise ControlPlaneError(f"Secret {namespace}/{name} has no key {key}")
    return base64.b64decode(found["data"][key]).decode()


def _env_value(kubectl, namespace: str, variable: dict):
    """A container's environment variable as the kubelet sets it: its value, or the key of a Secret or ConfigMap
    (None: an optional reference that is not there, so the variable is not set)."""
    if "valueFrom" not in variable:
        return variable.get("value", "")
    source = variable["valueFrom"]
    if "configMapKeyRef" in source:
        reference = source["configMapKeyRef"]
        found = kubectl.get(f"{namespace}/configmap/{reference['name']}") or {}
        value = (found.get("data") or {}).get(reference["key"])
        if value is None and not reference.get("optional"):
            raise ControlPlaneError(f"ConfigMap {namespace}/{reference['name']} has no key {reference['key']}")
        return value
    reference = source["secretKeyRef"]
    if reference.get("optional"):
        found = kubectl.get(f"{namespace}/secret/{reference['name']}") or {}
        if reference["key"] not in (found.get("data") or {}):
            return None
    return _secret_value(kubectl, namespace, reference["name"], reference["key"])


def _environment(kubectl, namespace: str, container: dict) -> dict:
    values = {v["name"]: _env_value(kubectl, namespace, v) for v in container.get("env") or []}
    return {name: value for name, value in values.items() if value is not None}


class SingleSignOn:
    """The platform's Dex and the Authentik stand-in as components of a control plane (stopped with it)."""

    def __init__(self, plane: ControlPlane, applications: dict, domain: str):
        """APPLICATIONS: the rendered child Applications of platform-root (harness.platform.catalog)."""
        from harness.platform.as_deployed import Kubectl

        self.plane, self.applications, self.domain = plane, applications, domain
        self.dir = plane.dir / "sso"
        self.kubectl = Kubectl(str(plane.bin / "kubectl"), str(plane.admin_kubeconfig))
        self.dex_values = applications[DEX_APP]["source"]["helm"]["valuesObject"]
        [connector] = self.dex_values["config"]["connectors"]
        self.connector = connector["config"]
        # Where Dex calls Authentik: its in-cluster address, which the egress guard routes to the stand-in.
        self.authentik_in_cluster = urlsplit(self.connector["issuer"])
        self.blueprint = blueprint_identities(self._blueprint_text())
        self.urls: dict = {}

    def _blueprint_text(self) -> str:
        resources = self.applications[BLUEPRINT_SET]["source"]["helm"]["valuesObject"]["resources"]
        [configmap] = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == BLUEPRINT_CONFIGMAP]
        [text] = configmap["data"].values()
        return text

    # ------------------------------------------------------------------ the issuer Dex expects of Authentik
    def authentik_issuer(self) -> str:
        """Authentik's per-provider issuer for the blueprint's application, at the address the rendered connector
        calls; the connector's own issuer must be exactly that, or Dex's discovery would fail against Authentik."""
        called = self.authentik_in_cluster
        issuer = f"{called.scheme}://{called.netloc}/application/o/{self.blueprint['slug']}/"
        if self.connector["issuer"] != issuer:
            raise ControlPlaneError(f"Dex's connector issuer {self.connector['issuer']} is not the issuer Authentik "
                                    f"derives for the blueprint's application: {issuer}")
        return issuer

    def _authentik_client_secret(self) -> str:
        """The client secret as Authentik gets it: the `auth` app's env variable the blueprint's !Env names."""
        values = self.applications[AUTHENTIK_APP]["source"]["helm"]["valuesObject"]
        wanted = self.blueprint["client"]["secret_env"]
        [variable] = [v for v in values["global"]["env"] if v["name"] == wanted] or [None]
        if variable is None:
            raise ControlPlaneError(f"the blueprint reads !Env {wanted}, which the auth app's values do not set")
        return _env_value(self.kubectl, SSO_NAMESPACE, variable)

    # ------------------------------------------------------------------ processes
    def up(self, users: dict) -> dict:
        """Start the stand-in, its front, the platform's Dex and oauth2-proxy. USERS: {username: {password, email,
        groups}} - the blueprint's users must be among them, with the blueprint's groups (a mismatch is an error
        here). Returns {dex, authentik, dashboard}: the loopback URLs serving https://dex.<domain>,
        https://auth.<domain> and https://tekton.<domain>."""
        from harness.platform.render import Applier, render
        from harness.platform.stack import HELM, OAUTH2_PROXY, dex_binary, go_tool
        from harness.platform.charts import SHARED_CHARTS

        for name, groups in self.blueprint["users"].items():
            if name not in users or sorted(users[name]["groups"]) != sorted(groups):
                raise ControlPlaneError(f"user {name}: the blueprint gives groups {groups}, the test "
                                        f"{(users.get(name) or {}).get('groups')}")
        self.dir.mkdir(parents=True, exist_ok=True)
        binary, helm = dex_binary(), go_tool(*HELM)
        objects = render(helm, DEX_APP, self.applications[DEX_APP], SHARED_CHARTS)
        kinds = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret")
        kept = [o for o in objects if o["kind"] in kinds]
        errors = Applier(self.plane.bin / "kubectl", self.plane.admin_kubeconfig).apply(
            DEX_APP, SSO_NAMESPACE, kept, create_namespace=True)
        if any(errors):
            raise ControlPlaneError(f"applying the dex chart's objects: {errors}")
        [deployment] = [o for o in objects if o["kind"] == "Deployment"]
        [secret] = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == DEX_APP]
        self.plane._state = self.plane.recorded_state()  # pylint: disable=protected-access
        stand_in = self._start_stand_in(binary)
        front = self._start_front(stand_in, users)
        dex = self._start_dex(binary, deployment, secret)
        self.urls = {"dex": dex, "authentik": front}
        self.urls["dashboard"] = self._start_dashboard_auth(
            go_tool(*OAUTH2_PROXY), render(helm, DASHBOARD_AUTH_APP, self.applications[DASHBOARD_AUTH_APP], SHARED_CHARTS),
            dex)
        return self.urls

    def _wait(self, name: str, process, port: int) -> None:
        self.plane._wait_ready(name, process, lambda: port_open(port))  # pylint: disable=protected-access

    def _start_stand_in(self, binary: Path) -> int:
        port, client = free_port(), self.blueprint["client"]
        config = {"issuer": self.authentik_issuer(), "storage": {"type": "memory"},
                  "web": {"http": f"127.0.0.1:{port}"}, "telemetry": {"http": f"127.0.0.1:{free_port()}"},
                  "oauth2": {"skipApprovalScreen": True},
                  "connectors": [{"type": "authproxy", "id": "front", "name": "Authentik (stand-in)", "config": {}}],
                  "staticClients": [{"id": client["id"], "name": client["id"], "secretEnv": "CLIENT_SECRET",
                                     "redirectURIs": client["redirect_uris"]}]}
        path = self.dir / "authentik-stand-in.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {"PATH": "/usr/bin:/bin", "CLIENT_SECRET": self._authentik_client_secret()}
        process = self.plane._spawn("authentik-stand-in", [str(binary), "serve", str(path)],  # pylint: disable=protected-access
                                    env=env)
        self._wait("authentik-stand-in", process, port)
        # Dex reaches "Authentik" by the Service name and port its connector renders, through the guard.
        egress_guard.add_route(self.plane.egress_routes, _address(self.authentik_in_cluster), port)
        return port

    def _start_front(self, stand_in: int, users: dict) -> str:
        port = free_port()
        users_file = write_private(self.dir / "users.json", json.dumps(users).encode())
        called = self.authentik_in_cluster
        public = urlsplit(self.connector["providerDiscoveryOverrides"]["authURL"])
        process = self.plane._spawn("authentik-front", [  # pylint: disable=protected-access
            os.path.realpath(sys.executable), str(Path(__file__).parent / "idp_front.py"), str(port), str(stand_in),
            str(users_file), f"{called.scheme}://{called.netloc}", f"{public.scheme}://{public.netloc}", public.path,
            f"/application/o/{self.blueprint['slug']}/auth"], env={"PATH": "/usr/bin:/bin"})
        self._wait("authentik-front", process, port)
        return f"http://127.0.0.1:{port}"

    def _start_dex(self, binary: Path, deployment: dict, secret: dict) -> str:
        config = yaml.safe_load(secret.get("stringData", {}).get("config.yaml")
                                or base64.b64decode(secret["data"]["config.yaml"]).decode())
        storage = config["storage"]
        if storage != {"type": "kubernetes", "config": {"inCluster": True}}:
            raise ControlPlaneError(f"Dex's storage is {storage}, not the in-cluster kubernetes storage")
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        kubeconfig = self.kubectl.service_account_kubeconfig(SSO_NAMESPACE, account, str(self.dir / "dex.kubeconfig"))
        config["storage"] = {"type": "kubernetes", "config": {"kubeConfigFile": kubeconfig}}
        # Dex's public address is served with TLS, as the ingress serves it (the kube-apiserver accepts only an https
        # issuer): a certificate for the issuer's name from a CA standing in for the platform's.
        https_port, issuer_host = free_port(), urlsplit(config["issuer"]).hostname
        authority = CertificateAuthority.create("aphex-test-platform-ca")
        certificate, key = authority.issue(issuer_host, server=True, dns=[issuer_host])
        (self.dir / "dex-tls.crt").write_bytes(certificate)
        write_private(self.dir / "dex-tls.key", key)
        self.platform_ca = authority.cert_pem().decode()
        config["web"] = {**config.get("web", {}), "https": f"127.0.0.1:{https_port}",
                         "tlsCert": str(self.dir / "dex-tls.crt"), "tlsKey": str(self.dir / "dex-tls.key")}
        path = self.dir / "dex.yaml"
        path.write_text(yaml.safe_dump(config))
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {"PATH": "/usr/bin:/bin", "HTTP_PROXY": self.plane.egress_proxy, "HTTPS_PROXY": self.plane.egress_proxy}
        env.update(_environment(self.kubectl, SSO_NAMESPACE, container))
        port = free_port()
        # The Deployment's arguments, its config file and addresses (every interface) replaced.
        arguments, addresses = [], {"--web-http-addr": f"127.0.0.1:{port}", "--telemetry-addr": f"127.0.0.1:{free_port()}"}
        # The image's entrypoint runs its arguments as the command: the first one names the program.
        program, *given = container.get("args") or [""]
        if program != "dex":
            raise ControlPlaneError(f"the dex chart's container runs {program!r}, not dex")
        while given:
            argument = given.pop(0)
            if argument in addresses:
                arguments += [argument, addresses[argument]]
                given.pop(0)
            elif argument.endswith("config.yaml"):
                arguments.append(str(path))
            else:
                arguments.append(argument)
        # Restarted as the kubelet restarts a container that exits: on its first start Dex creates its CRDs and
        # exits when they are not served yet ("failed to list connectors: not found").
        for attempt in range(1, 4):
            process = self.plane._spawn("dex", [str(binary), *arguments], env=env)  # pylint: disable=protected-access
            try:
                self._wait("dex", process, port)
                self.plane._wait_ready("dex", process, lambda: port_open(https_port))  # pylint: disable=protected-access
                # A client that dials the issuer's name (the kube-apiserver, kubelogin) gets Dex's TLS listener.
                egress_guard.add_route(self.plane.egress_routes, f"{issuer_host}:443", https_port)
                return f"http://127.0.0.1:{port}"
            except ControlPlaneError:
                if process.poll() is None:  # not exited but not serving: stopped, so the next one gets the port
                    process.kill()
                    process.wait(timeout=10)
                if attempt == 3:
                    raise
                time.sleep(attempt)
        raise AssertionError("unreachable")

    def _start_dashboard_auth(self, binary: Path, objects: list, dex: str) -> str:
        """oauth2-proxy as the tekton-dashboard-auth app's Deployment runs it (arguments, environment from
        tekton-dashboard-oidc, its ConfigMap's config file), as a loopback process: it redeems codes and reads keys
        at Dex's Service (routed by the egress guard to Dex), and proxies to a stand-in of the dashboard (a static
        page: the dashboard itself is not built here)."""
        [deployment] = [o for o in objects if o["kind"] == "Deployment"]
        [configmap] = [o for o in objects if o["kind"] == "ConfigMap"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        namespace = self.applications[DASHBOARD_AUTH_APP]["destination"]["namespace"]
        config = self.dir / "oauth2_proxy.cfg"
        config.write_text(configmap["data"]["oauth2_proxy.cfg"])
        port = free_port()
        addresses = {"--http-address": f"127.0.0.1:{port}", "--https-address": f"127.0.0.1:{free_port()}",
                     "--metrics-address": f"127.0.0.1:{free_port()}", "--config": str(config)}
        dashboard = free_port()
        # The upstream (the dashboard's Service) becomes the stand-in's loopback address: oauth2-proxy writes its
        # upstream requests in origin form (`GET / HTTP/1.1`, its rewrite sets the URL's opaque path) with the
        # browser's Host, so no forward proxy could tell where they go; the Service's name is checked by
        # tests/unit/roles/platform/defaults/main/test_catalog.py against the dashboard's release manifest.
        addresses["--upstream"] = f"http://127.0.0.1:{dashboard}"
        arguments, routes = [], []
        for argument in container["args"]:
            flag, value = (argument.split("=", 1) + [""])[:2]
            if flag in addresses:
                argument = f"{flag}={addresses[flag]}"
            elif flag in ("--redeem-url", "--oidc-jwks-url"):
                target = urlsplit(value)
                routes.append(_address(target))
            arguments.append(argument)
        site = self.dir / "dashboard"
        site.mkdir(exist_ok=True)
        (site / "index.html").write_text("Tekton Dashboard (stand-in)\n")
        process = self.plane._spawn("tekton-dashboard-stand-in", [  # pylint: disable=protected-access
            os.path.realpath(sys.executable), "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site),
            str(dashboard)], env={"PATH": "/usr/bin:/bin"})
        self._wait("tekton-dashboard-stand-in", process, dashboard)
        for target in routes:
            egress_guard.add_route(self.plane.egress_routes, target, urlsplit(dex).port)
        env = {"PATH": "/usr/bin:/bin", "HTTP_PROXY": self.plane.egress_proxy, "HTTPS_PROXY": self.plane.egress_proxy}
        env.update(_environment(self.kubectl, namespace, container))
        process = self.plane._spawn("oauth2-proxy", [str(binary), *arguments], env=env)  # pylint: disable=protected-access
        self._wait("oauth2-proxy", process, port)
        return f"http://127.0.0.1:{port}"

    def down(self) -> list:
        return self.plane.stop(COMPONENTS)

    # ------------------------------------------------------------------ ArgoCD
    def start_argocd(self, argocd_documents: list, deployment_type: str) -> str:
        """argocd-server (the multi-call binary ArgoCD's release is built from) as its release Deployment runs it -
        its ServiceAccount's RBAC, its environment from the collection's argocd-cmd-params-cm - with the collection's
        argocd-cm, argocd-rbac-cm and projects (ARGOCD_DOCUMENTS) and argocd-secret, behind
        https://argocd.<domain>. It reaches Dex at its public issuer through the egress guard and trusts Dex's
        certificate as the deployment type makes it trust it: on kind the platform CA the certificates app puts in
        argocd-platform-ca (oidc.config's rootCA; here the CA standing in for it), on K3s the host's store (here a
        store holding that CA alone). Returns the loopback URL."""
        from kubernetes import config as kubernetes_config

        from harness.kube import apply_documents, argocd_crds, argocd_manifest
        from harness.platform.render import Applier
        from harness.platform.stack import argocd_binary

        release = [d for d in yaml.safe_load_all(argocd_manifest().read_text()) if d]
        server = [d for d in release if d["metadata"]["name"] == ARGOCD_SERVER
                  and d["kind"] in ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")]
        # The release's settings objects (labelled part-of argocd: ArgoCD's informers see no other), which the
        # platform role overlays with the collection's (argocd-config.yaml.j2).
        settings = [d for d in release if d["kind"] in ("ConfigMap", "Secret") and d["metadata"]["name"] in (
            "argocd-cm", "argocd-rbac-cm", "argocd-cmd-params-cm", "argocd-secret")]
        [deployment] = [d for d in release if d["kind"] == "Deployment" and d["metadata"]["name"] == ARGOCD_SERVER]
        apply_documents(kubernetes_config.new_client_from_config(config_file=str(self.plane.admin_kubeconfig)),
                        argocd_crds("applications.argoproj.io", "appprojects.argoproj.io"))
        applier = Applier(self.plane.bin / "kubectl", self.plane.admin_kubeconfig)
        errors = applier.apply("argocd-release", ARGOCD_NAMESPACE, server + settings, create_namespace=True)
        documents = list(argocd_documents)
        # What the release's argocd-redis-secret-init Job makes: the password of ArgoCD's Redis.
        redis_password = secrets.token_urlsafe(24)
        documents.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argocd-redis"},
                          "stringData": {"auth": redis_password}})
        if deployment_type == "kind":  # what the certificates app's argocd-platform-ca Certificate writes
            documents.append({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": "argocd-platform-ca", "labels": {"app.kubernetes.io/part-of": "argocd"}},
                "stringData": {"ca.crt": self.platform_ca}})
        errors += applier.apply("argocd", ARGOCD_NAMESPACE, documents, create_namespace=False)
        if any(errors):
            raise ControlPlaneError(f"installing argocd-server: {errors}")
        redis = free_port()
        redis_config = write_private(self.dir / "argocd-redis.conf", (
            f'bind 127.0.0.1\nport {redis}\nsave ""\nappendonly no\nrequirepass "{redis_password}"\n').encode())
        process = self.plane._spawn("argocd-redis", ["/usr/bin/redis-server", str(redis_config)])  # pylint: disable=protected-access
        self._wait("argocd-redis", process, redis)
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        home = self.dir / "argocd-home"
        home.mkdir(exist_ok=True)
        kubeconfig = self.kubectl.service_account_kubeconfig(
            ARGOCD_NAMESPACE, deployment["spec"]["template"]["spec"]["serviceAccountName"], str(self.dir / "argocd.kubeconfig"))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ARGOCD_BINARY_NAME": ARGOCD_SERVER,
               "KUBECONFIG": kubeconfig, "ARGOCD_FAKE_IN_CLUSTER": "true",
               "HTTPS_PROXY": self.plane.egress_proxy, "HTTP_PROXY": self.plane.egress_proxy,
               **_environment(self.kubectl, ARGOCD_NAMESPACE, container)}
        if deployment_type != "kind":
            (self.dir / "host-trust.pem").write_text(self.platform_ca)
            env["SSL_CERT_FILE"] = str(self.dir / "host-trust.pem")
        port = free_port()
        # The Deployment's addresses (every interface, in-cluster Services) replaced by loopback ones.
        env.update({"ARGOCD_SERVER_LISTEN_ADDRESS": "127.0.0.1", "ARGOCD_SERVER_METRICS_LISTEN_ADDRESS": "127.0.0.1",
                    "REDIS_SERVER": f"127.0.0.1:{redis}", "ARGOCD_SERVER_REPO_SERVER": f"127.0.0.1:{free_port()}"})
        process = self.plane._spawn(ARGOCD_SERVER, [  # pylint: disable=protected-access
            str(argocd_binary()), "--kubeconfig", kubeconfig, "--namespace", ARGOCD_NAMESPACE, "--port", str(port),
            "--metrics-port", str(free_port())], env=env)
        self._wait(ARGOCD_SERVER, process, port)
        self.urls["argocd"] = f"http://127.0.0.1:{port}"
        return self.urls["argocd"]

    def argocd_url(self) -> str:
        """ArgoCD's public URL (argocd-cm's url)."""
        return f"https://argocd.{self.domain}"

    # ------------------------------------------------------------------ kubectl
    def kubectl_sso_settings(self, deployment_type: str) -> dict:
        """The settings the deployment type's role gives its kube-apiserver (k3s_oidc, kind_cluster_oidc: their
        defaults, templated), with what this machine adds: the CA standing in for the platform's (as a kind operator
        adds it) and the `cluster` egress selection, which is how this kube-apiserver reaches any name (the egress
        guard routes the issuer's to Dex's TLS listener)."""
        from harness.platform.catalog import kubectl_sso_settings

        settings = kubectl_sso_settings(deployment_type, self.domain)
        if settings["issuer_url"].rstrip("/") != self.dex_values["config"]["issuer"].rstrip("/"):
            raise ControlPlaneError(f"the {deployment_type} role's kube-apiserver trusts {settings['issuer_url']}, "
                                    f"the platform's Dex issues as {self.dex_values['config']['issuer']}")
        return {**settings, "certificate_authority": self.platform_ca, "egress_selector": "cluster"}

    def enable_kubectl_sso(self, deployment_type: str) -> dict:
        """Give the control plane's kube-apiserver the role's authentication configuration; return it."""
        from ansible_collections.aphex.platform.plugins.module_utils.platform.kube_sso import (
            authentication_configuration)

        configuration = authentication_configuration(self.kubectl_sso_settings(deployment_type))
        self.plane.write_authentication_config(configuration)
        return configuration

    # ------------------------------------------------------------------ a browser, on loopback
    def public_origins(self) -> dict:
        """The public origins a browser would open (Dex's issuer, Authentik's authorization address) to the
        loopback URLs that serve them here."""
        authentik = urlsplit(self.connector["providerDiscoveryOverrides"]["authURL"])
        dashboard = urlsplit(self.dashboard_args()["redirect-url"])
        origins = {self.dex_values["config"]["issuer"].rstrip("/"): self.urls["dex"],
                   f"{authentik.scheme}://{authentik.netloc}": self.urls["authentik"],
                   f"{dashboard.scheme}://{dashboard.netloc}": self.urls["dashboard"]}
        if "argocd" in self.urls:
            origins[self.argocd_url()] = self.urls["argocd"]
        return origins

    def dashboard_args(self) -> dict:
        return self.applications[DASHBOARD_AUTH_APP]["source"]["helm"]["valuesObject"]["extraArgs"]

    def sign_in(self, client_id: str, redirect_uri: str, username: str, password: str,
                scope: str = "openid profile email groups", state: str = "aphex-test") -> dict:
        """A client's authorization-code sign-in at the platform's Dex, as a browser follows it, up to the redirect
        to REDIRECT_URI (see browse)."""
        from urllib.parse import urlencode

        query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": scope, "state": state})
        return self.browse(f"{self.dex_values['config']['issuer'].rstrip('/')}/auth?{query}", username, password,
                           stop_at=redirect_uri)

    def browse(self, url: str, username: str, password: str, stop_at: str | None = None) -> dict:
        """Open the public URL as a browser would - following redirects, keeping each origin's cookies, the user
        signing in when Authentik's address asks - until a redirect to STOP_AT: {status: 302, location (that
        redirect), steps (the public URLs opened), cookies (by origin)}; or until an answer that is no redirect:
        {status, location: None, body, steps, cookies}."""
        import http.client

        origins, cookies, steps = self.public_origins(), {}, []
        credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
        while len(steps) < 25:
            if stop_at and url.startswith(stop_at):
                return {"status": 302, "location": url, "steps": steps, "cookies": cookies}
            origin = next((o for o in origins if url == o or url.startswith(o + "/")), None)
            if origin is None:
                raise ControlPlaneError(f"the browser was sent to {url}, which no public address served here is")
            steps.append(url)
            local = urlsplit(origins[origin] + url[len(origin):])
            headers = {"Authorization": f"Basic {credentials}"} if origins[origin] == self.urls["authentik"] else {}
            if cookies.get(origin):
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies[origin].items())
            connection = http.client.HTTPConnection(local.hostname, local.port, timeout=30)
            connection.request("GET", (local.path or "/") + (f"?{local.query}" if local.query else ""),
                               headers=headers)
            answer = connection.getresponse()
            body = answer.read().decode(errors="replace")
            for key, value in answer.getheaders():
                if key.lower() == "set-cookie":
                    name, rest = (value.split("=", 1) + [""])[:2]
                    cookie, attributes = rest.split(";", 1)[0], rest.lower().replace(" ", "")
                    jar = cookies.setdefault(origin, {})
                    if not cookie or "max-age=0" in attributes or "expires=thu,01jan1970" in attributes:
                        jar.pop(name.strip(), None)  # a deletion
                    else:
                        jar[name.strip()] = cookie
            location = answer.getheader("Location")
            connection.close()
            if answer.status not in (301, 302, 303, 307) or not location:
                return {"status": answer.status, "location": None, "body": body[:4000], "steps": steps,
                        "cookies": cookies}
            url = urljoin(url, location)
        raise ControlPlaneError(f"the browser was still being redirected after 25 steps: {steps}")

    def redeem(self, code: str, client_id: str, client_secret: str, redirect_uri: str) -> tuple:
        """(status, answer) of the platform Dex's token endpoint for CODE, as the client redeems it."""
        import http.client
        from urllib.parse import quote, urlencode

        local = urlsplit(self.urls["dex"])
        connection = http.client.HTTPConnection(local.hostname, local.port, timeout=30)
        # RFC 6749 2.3.1: form-encoded before Basic (the generated secrets hold '+', '/' and '=').
        credentials = base64.b64encode(f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()).decode()
        connection.request("POST", "/token", body=urlencode({"grant_type": "authorization_code", "code": code,
                                                             "redirect_uri": redirect_uri}),
                           headers={"Authorization": f"Basic {credentials}",
                                    "Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        body = answer.read().decode()
        connection.close()
        try:
            return answer.status, json.loads(body)
        except ValueError:
            return answer.status, {"body": body}

    def verified_claims(self, id_token: str) -> dict:
        """The ID token's claims once its RS256 signature checks against the platform Dex's published keys."""
        from urllib.request import urlopen

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        def decoded(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        header_part, payload_part, signature_part = id_token.split(".")
        header = json.loads(decoded(header_part))
        with urlopen(f"{self.urls['dex']}/keys", timeout=10) as answer:  # noqa: S310 - loopback
            keys = json.load(answer)["keys"]
        [key] = [k for k in keys if k["kid"] == header["kid"]]
        if header["alg"] != "RS256" or key["kty"] != "RSA":
            raise ControlPlaneError(f"unexpected ID token algorithm {header['alg']} / key type {key['kty']}")
        public_key = rsa.RSAPublicNumbers(int.from_bytes(decoded(key["e"]), "big"),
                                          int.from_bytes(decoded(key["n"]), "big")).public_key()
        public_key.verify(decoded(signature_part), f"{header_part}.{payload_part}".encode(), padding.PKCS1v15(),
                          hashes.SHA256())
        return json.loads(decoded(payload_part))
