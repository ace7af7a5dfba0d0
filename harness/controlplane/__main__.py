"""`python -m harness.controlplane {up,down,status}`: the test control plane from a shell.

`make cluster-up` / `make cluster-down` call this; the pytest fixture uses the
same ControlPlane class.
"""
from __future__ import annotations

import argparse
import sys
import time

from .cluster import ControlPlane, ControlPlaneError, binaries


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.controlplane", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status", "build"))
    parser.add_argument("--state-dir", default=".cluster", help="where kubeconfigs, logs and state live")
    parser.add_argument("--bin", help="folder with etcd, kube-apiserver, kube-controller-manager (default: build.sh)")
    args = parser.parse_args(argv)

    if args.command == "build":
        print(binaries())
        return 0
    plane = ControlPlane(args.state_dir, args.bin if args.command != "up" else (args.bin or binaries()))
    if args.command == "up":
        started = time.monotonic()
        try:
            if not plane.up():
                print(f"control plane already up at {plane.url} ({plane.admin_kubeconfig})")
                return 0
        except ControlPlaneError as err:
            print(f"control plane failed to start: {err}", file=sys.stderr)
            return 1
        print(f"control plane ready at {plane.url} in {time.monotonic() - started:.1f} s")
        print(f"  kubectl --kubeconfig {plane.admin_kubeconfig} get namespaces")
        print(f"  non-admin users: {', '.join(sorted(p.stem for p in (plane.dir / 'users').glob('*.kubeconfig')))}"
              f" (kubeconfigs in {plane.dir / 'users'})")
        print(f"  audit log: {plane.audit_log}")
        return 0
    if args.command == "down":
        stopped = plane.down()
        print(f"stopped: {', '.join(stopped)}" if stopped else "control plane was not running")
        return 0
    running = plane.running_components()
    if plane.is_up():
        print(f"up at {plane.url}: {', '.join(running)}")
        return 0
    print(f"down (running: {', '.join(running) or 'nothing'})")
    return 3


if __name__ == "__main__":
    sys.exit(main())
