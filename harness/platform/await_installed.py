"""Wait until an app the bootstrap installs is there - each OBJECT (`[NAMESPACE/]KIND/NAME`, as kubectl gets it)
exists - then become the program given after `--`: the local processes that stand for an app's controller
(ArgoCD's, cert-manager's) start once the app's CRDs and configuration are in the cluster. Stdlib only.
Usage: await_installed.py KUBECTL KUBECONFIG OBJECT... -- PROGRAM ARGS..."""
import os
import subprocess
import sys
import time


def exists(kubectl: str, kubeconfig: str, reference: str) -> bool:
    *namespace, kind, name = reference.split("/")
    scope = ["-n", namespace[0]] if namespace else []
    return subprocess.run([kubectl, "--kubeconfig", kubeconfig, *scope, "get", kind, name], capture_output=True,
                          check=False).returncode == 0


def main() -> None:
    kubectl, kubeconfig, *rest = sys.argv[1:]
    assert "--" in rest, __doc__
    objects, program = rest[:rest.index("--")], rest[rest.index("--") + 1:]
    assert objects and program, __doc__
    announced = False
    while not all(exists(kubectl, kubeconfig, reference) for reference in objects):
        if not announced:
            print(f"waiting for {', '.join(objects)}", flush=True)
            announced = True
        time.sleep(2)
    os.execve(program[0], program, os.environ)


if __name__ == "__main__":
    main()
