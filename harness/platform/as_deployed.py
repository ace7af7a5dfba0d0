"""Run a local program as an upstream Deployment runs its container: wait until the Deployment (and any other
OBJECT, `[NAMESPACE/]KIND/NAME`) is in the cluster, take the container's environment and arguments from it as the
app installed it, route the Services whose webhooks the program serves to its loopback port, then become the
program. So a Tekton component starts with its release's own configuration, not one retyped here. Stdlib only.

Usage: as_deployed.py KUBECTL KUBECONFIG NAMESPACE/DEPLOYMENT[/CONTAINER] [OPTION...] -- PROGRAM ARGS...
  --wait OBJECT             also wait for OBJECT
  --set NAME=VALUE          set (or replace) an environment variable: the ports a local process must not share
  --identity FILE           act as the Deployment's ServiceAccount: a token the TokenRequest API issues for it, in
                            a kubeconfig written to FILE (KUBECONFIG points there)
  --apply FILE              server-side apply FILE's objects before starting (the webhook configurations the
                            program serves: the test platform's ArgoCD leaves those kinds alone)
  --route SERVICE:PORT=LOCAL --routes FILE
                            hand the kube-apiserver's connections to the Service's cluster address (in the
                            Deployment's namespace) to 127.0.0.1:LOCAL, through the egress guard's routes FILE
The container's environment: plain values, and `fieldRef` to the pod's namespace or name (the namespace and the
Deployment's name); an optional `envFrom` that does not exist is skipped; anything else is refused, so a setting
the program needs is never dropped silently."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "controlplane"))
import egress_guard  # noqa: E402  pylint: disable=wrong-import-position


class Kubectl:
    def __init__(self, kubectl: str, kubeconfig: str):
        self.argv = [kubectl, "--kubeconfig", kubeconfig]

    def get(self, reference: str):
        *namespace, kind, name = reference.split("/")
        scope = ["-n", namespace[0]] if namespace else []
        result = subprocess.run([*self.argv, *scope, "get", kind, name, "-o", "json"], capture_output=True,
                                check=False, text=True)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def service_account_kubeconfig(self, namespace: str, account: str, path: str) -> str:
        """A kubeconfig at PATH for the ServiceAccount, its token issued by the TokenRequest API - the identity a
        pod of the Deployment would have; returns PATH."""
        token = subprocess.run([*self.argv, "-n", namespace, "create", "token", account, "--duration=48h"],
                               capture_output=True, check=True, text=True).stdout.strip()
        admin = json.loads(subprocess.run([*self.argv, "config", "view", "--raw", "--minify", "-o", "json"],
                                          capture_output=True, check=True, text=True).stdout)
        user = f"system:serviceaccount:{namespace}:{account}"
        config = {"apiVersion": "v1", "kind": "Config", "current-context": user,
                  "clusters": [{"name": "local", "cluster": admin["clusters"][0]["cluster"]}],
                  "users": [{"name": user, "user": {"token": token}}],
                  "contexts": [{"name": user, "context": {"cluster": "local", "user": user, "namespace": namespace}}]}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(config, out)
        return path


def environment(deployment: dict, container: dict, kubectl: Kubectl) -> dict:
    namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
    env = {}
    for source in container.get("envFrom") or []:
        kind = "secret" if "secretRef" in source else "configmap"
        reference = source.get("secretRef") or source.get("configMapRef") or {}
        found = kubectl.get(f"{namespace}/{kind}/{reference.get('name')}") if reference.get("name") else None
        if found is None:
            if reference.get("optional"):
                continue
            raise SystemExit(f"{name}: envFrom {kind} {reference.get('name')!r} not found")
        if kind == "secret":
            raise SystemExit(f"{name}: envFrom a Secret is not supported here")
        env.update({source.get("prefix", "") + key: value for key, value in (found.get("data") or {}).items()})
    for variable in container.get("env") or []:
        if "valueFrom" not in variable:
            env[variable["name"]] = variable.get("value", "")  # `value: ""` comes back from the API as no value
            continue
        field = ((variable.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        if field == "metadata.namespace":
            env[variable["name"]] = namespace
        elif field == "metadata.name":
            env[variable["name"]] = name
        else:
            raise SystemExit(f"{name}: environment variable {variable['name']} comes from "
                             f"{variable.get('valueFrom')}, which a local process cannot be given")
    return env


def main() -> None:
    kubectl_path, kubeconfig, target, *rest = sys.argv[1:]
    assert "--" in rest, __doc__
    options, program = rest[:rest.index("--")], rest[rest.index("--") + 1:]
    assert program and len(options) % 2 == 0, __doc__
    pairs = list(zip(options[::2], options[1::2]))
    kubectl = Kubectl(kubectl_path, kubeconfig)
    namespace, deployment_name, *container_name = target.split("/")
    waits = [f"{namespace}/deployment/{deployment_name}"] + [value for option, value in pairs if option == "--wait"]
    announced = False
    while not all(kubectl.get(reference) for reference in waits):
        if not announced:
            print(f"waiting for {', '.join(waits)}", flush=True)
            announced = True
        time.sleep(2)
    deployment = kubectl.get(waits[0])
    containers = deployment["spec"]["template"]["spec"]["containers"]
    container = next(c for c in containers if not container_name or c["name"] == container_name[0])
    env = {"PATH": "/usr/bin:/bin", **environment(deployment, container, kubectl)}
    if dict(pairs).get("--identity"):
        account = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
        env["KUBECONFIG"] = kubectl.service_account_kubeconfig(namespace, account, dict(pairs)["--identity"])
    env.update(value.split("=", 1) for option, value in pairs if option == "--set")
    routes_file = dict(pairs).get("--routes")
    for option, value in pairs:
        if option != "--route":
            continue
        service_port, local = value.split("=")
        service_name, port = service_port.split(":")
        service = kubectl.get(f"{namespace}/service/{service_name}")
        if service is None or not service["spec"].get("clusterIP"):
            raise SystemExit(f"{deployment_name}: Service {namespace}/{service_name} has no cluster address")
        egress_guard.add_route(routes_file, f"{service['spec']['clusterIP']}:{port}", int(local))
        print(f"routing {namespace}/{service_name}:{port} ({service['spec']['clusterIP']}) to 127.0.0.1:{local}",
              flush=True)
    for option, value in pairs:
        if option == "--apply":
            subprocess.run([*kubectl.argv, "apply", "--server-side", "--force-conflicts",
                            "--field-manager=aphex-test-platform", "-f", value], check=True)
    argv = [program[0], *(container.get("args") or []), *program[1:]]
    print("running", " ".join(argv), flush=True)
    os.execve(program[0], argv, env)


if __name__ == "__main__":
    main()
