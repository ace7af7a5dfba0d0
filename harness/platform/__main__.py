"""`python -m harness.platform {up,mirror,status,build,push}`: the platform layer of the test control plane from a
shell (`make platform-up`, `make chart-mirror`); `make cluster-down` stops it with the control plane. `build` fills
the caches of every tool the stack runs (make test starts it first, beside the stages that need none of them).
`push ORG OWNER/REPO`: a signed push through the organization's EventListener, followed to its PipelineRun's end
(harness/platform/push.py)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.controlplane.cluster import ControlPlane, ControlPlaneError, binaries
from harness.platform.stack import HELM, PLATFORM_COMPONENTS, PlatformStack, build_mirror, build_tools, go_tool


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.platform", description=__doc__)
    parser.add_argument("command", choices=("up", "mirror", "status", "build", "push"))
    parser.add_argument("push", nargs="*", metavar="ORG OWNER/REPO", help="with push: whose push")
    parser.add_argument("--revision", default="5" * 40, help="with push: the pushed commit")
    parser.add_argument("--from", dest="source", metavar="FOLDER",
                        help="with push: commit FOLDER's files to the repository on the test platform's Git server "
                             "and push that commit; then run the deploy step and follow the Application it wrote")
    parser.add_argument("--state-dir", default=".cluster")
    parser.add_argument("--paths", action="store_true",
                        help="with up: print only the chart mirror's URL, the release manifests' folder, the "
                             "control plane's bin folder and the tenants' Git server's URL, on one line "
                             "(tools/demo.sh reads them)")
    args = parser.parse_args(argv)
    if args.command == "build":
        for name, path in build_tools().items():
            print(f"{name}: {path}")
        return 0
    if args.command == "mirror":
        folder = build_mirror(ControlPlane(args.state_dir).dir / "platform" / "mirror", go_tool(*HELM))
        print(f"chart mirror built in {folder}: charts/ (a Helm repository), releases/ (Tekton release manifests)")
        print("  serve it on loopback with `make platform-up`, or: python3 -m http.server --bind 127.0.0.1 "
              f"--directory {folder} 8879")
        return 0
    if args.command == "push":
        from harness.platform.push import push_and_follow

        if len(args.push) != 2:
            parser.error("push needs ORG and OWNER/REPO")
        from harness.gitserver import tree_of

        files = tree_of(Path(args.source)) if args.source else None
        result = push_and_follow(ControlPlane(args.state_dir, binaries()), *args.push, args.revision, files=files)
        tasks = ", ".join(f"{task} {reason}" for task, reason in sorted(result["task_runs"].items()))
        print(f"push to {args.push[1]} ({result['revision'][:12]}): PipelineRun {result['run']} {result['reason']} "
              f"{result['seconds']} s after the delivery ({tasks}); {result['message']}")
        if "application" in result:
            app = result["application"]
            print(f"  deployed by ArgoCD: Application {app['name']} {app['sync']} and {app['health']} "
                  f"{app['seconds']} s after the delivery")
            return 0 if (app["sync"], app["health"]) == ("Synced", "Healthy") else 1
        return 0 if result["status"] == "True" else 1
    plane = ControlPlane(args.state_dir, binaries() if args.command == "up" else None)
    stack = PlatformStack(plane)
    if args.command == "status":
        running = set(plane.running_components())
        print(", ".join(f"{name}: {'up' if name in running else 'down'}" for name in PLATFORM_COMPONENTS))
        return 0 if stack.is_up() else 3
    started = time.monotonic()
    try:
        plane.up()
        info = stack.up()
    except ControlPlaneError as error:
        print(f"platform stack failed to start: {error}", file=sys.stderr)
        return 1
    if args.paths:
        print(info["chart_mirror"], info["releases_dir"], plane.bin, info["git_server"])
        return 0
    print(f"platform stack up in {time.monotonic() - started:.1f} s: {', '.join(PLATFORM_COMPONENTS)}")
    print(f"  chart mirror: {info['chart_mirror']}")
    print(f"  release manifests: {info['releases_dir']}")
    print(f"  tenants' Git server: {info['git_server']} (repositories in {info['git_root']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
