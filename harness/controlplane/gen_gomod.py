"""Write the go.mod of a throwaway module that builds k8s.io/kubernetes/cmd/*.

k8s.io/kubernetes requires each staging module (k8s.io/api, ...) at v0.0.0 and
points it at ./staging with a replace directive. Go ignores the replace
directives of a dependency, so the main module repeats them, pointing at the
published tags: Kubernetes v1.N.P matches staging modules v0.N.P. The list is
read from the exact upstream go.mod so it never goes stale.

usage: gen_gomod.py PATH/TO/kubernetes.go.mod v1.N.P > go.mod
"""
import re
import sys


def render(upstream_gomod: str, k8s_version: str) -> str:
    match = re.fullmatch(r"v1\.(\d+)\.(\d+)", k8s_version)
    if not match:
        raise ValueError(f"expected a release like v1.37.2, got {k8s_version!r}")
    staging_version = f"v0.{match.group(1)}.{match.group(2)}"

    go_line = re.search(r"^go\s+(\S+)\s*$", upstream_gomod, re.M)
    # Only the main module's go/godebug lines set the binary's GODEBUG defaults.
    godebug = re.findall(r"^godebug\s+.*$", upstream_gomod, re.M)
    staging = sorted(set(re.findall(
        r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/src/\1\s*$", upstream_gomod, re.M)))
    if not staging:
        raise ValueError("no ./staging replace directives found: unexpected go.mod layout")

    lines = ["module controlplane-builder", ""]
    if go_line:
        lines.append(f"go {go_line.group(1)}")
    lines += godebug
    lines += ["", f"require k8s.io/kubernetes {k8s_version}", "", "replace ("]
    lines += [f"\t{module} => {module} {staging_version}" for module in staging]
    lines += [")", ""]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as handle:
        upstream = handle.read()
    try:
        sys.stdout.write(render(upstream, sys.argv[2]))
    except ValueError as err:
        sys.exit(str(err))


if __name__ == "__main__":
    main()
