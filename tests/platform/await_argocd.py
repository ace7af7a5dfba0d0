"""Wait until ArgoCD is installed in the cluster (its Application CRD and argocd-cm exist), then become the
program given after `--`. Stdlib only. Usage: await_argocd.py KUBECTL KUBECONFIG NAMESPACE -- PROGRAM ARGS..."""
import os
import subprocess
import sys
import time


def installed(kubectl: str, kubeconfig: str, namespace: str) -> bool:
    checks = (["get", "crd", "applications.argoproj.io"], ["-n", namespace, "get", "configmap", "argocd-cm"])
    return all(subprocess.run([kubectl, "--kubeconfig", kubeconfig, *check], capture_output=True,
                              check=False).returncode == 0 for check in checks)


def main() -> None:
    kubectl, kubeconfig, namespace, separator, *program = sys.argv[1:]
    assert separator == "--" and program, __doc__
    announced = False
    while not installed(kubectl, kubeconfig, namespace):
        if not announced:
            print(f"waiting for ArgoCD to be installed in namespace {namespace}", flush=True)
            announced = True
        time.sleep(2)
    os.execve(program[0], program, os.environ)


if __name__ == "__main__":
    main()
