"""Two runs of a cache-filling script at once: the second waits for the first and reuses what it made.

issue 11 item 8: harness/controlplane/build.sh removed and refilled bin.partial with no lock, so `make demo` and
`make test` started together built into the same folder; harness/builds/fetch-argocd.sh and harness/builds/build-kind.sh
wrote their caches the same way. Each now holds a flock on its cache entry and looks again once it has it.

A stand-in `go` on PATH makes the outputs and holds every call but `go env` until the test releases it, so the
first run is known to be mid-build when the second one starts; nothing depends on timing.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import REPO
STUB_GO = f"""#!{sys.executable}
# Stand-in for go: answers build.sh, fetch-argocd.sh, build-kind.sh and build-cert-manager.sh, logs each call and holds it until released.
import json, os, pathlib, sys, time, zipfile

stub = pathlib.Path(os.environ["STUB_DIR"])
args = sys.argv[1:]
if args[:1] == ["env"]:
    print({{"GOVERSION": "go1.26.8", "GOOS": "linux", "GOARCH": "amd64"}}[args[1]])
    sys.exit(0)
with open(stub / "calls", "a") as log:
    log.write(" ".join(args[:2]) + "\\n")
(stub / "busy").touch()
deadline = time.monotonic() + 120
while not (stub / "release").exists() and time.monotonic() < deadline:
    time.sleep(0.02)
if args[:2] == ["mod", "download"]:
    module = args[-1]
    if module.startswith("k8s.io/kubernetes@"):
        gomod = stub / "kubernetes.go.mod"
        gomod.write_text("module k8s.io/kubernetes\\n\\ngo 1.25\\n\\n"
                         "replace (\\n\\tk8s.io/api => ./staging/src/k8s.io/api\\n)\\n")
        print(json.dumps({{"GoMod": str(gomod)}}))
    else:
        archive = stub / "module.zip"
        with zipfile.ZipFile(archive, "w") as out:
            out.writestr(module + "/manifests/install.yaml", "kind: List\\nitems: []\\n")
        print(json.dumps({{"Zip": str(archive)}}))
elif args[:1] in (["build"], ["install"]):
    outputs = []
    if args[0] == "build":
        dest = args[args.index("-o") + 1]
        packages = [arg for arg in args[args.index("-o") + 2:]]
        outputs = [os.path.join(dest, p.rsplit("/", 1)[-1]) for p in packages] if dest.endswith("/") else [dest]
    else:
        outputs = [os.path.join(os.environ["GOBIN"], args[-1].split("@")[0].rsplit("/", 1)[-1])]
    for output in outputs:
        pathlib.Path(output).write_text("#!/bin/sh\\n")
        os.chmod(output, 0o755)
"""
# script, its arguments, the variable naming its cache, and the go calls of one run
SCRIPTS = {
    "controlplane": ("harness/controlplane/build.sh", [], "CONTROLPLANE_CACHE",
                     ["mod download", "mod tidy", "build -trimpath", "mod tidy", "build -trimpath"]),
    "argocd": ("harness/builds/fetch-argocd.sh", ["v3.6.1"], "APHEX_ARGOCD_CACHE", ["mod download"]),
    "kind": ("harness/builds/build-kind.sh", [], "XDG_CACHE_HOME", ["install -trimpath"]),
    "cert-manager": ("harness/builds/build-cert-manager.sh", [], "XDG_CACHE_HOME", ["list -deps", "build -trimpath"]),
}


def wait_until(condition, process: subprocess.Popen, what: str) -> None:
    """Poll until condition() holds; fail at once if the process ends first (a bound only against hanging)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"{what}: the run ended first"
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_second_run_waits_for_the_first_and_reuses_its_output(name, tmp_path):
    """issue 11 item 8: concurrent runs filled the same cache folder; now the second waits, then reuses."""
    script, args, cache_variable, one_run = SCRIPTS[name]
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "go").write_text(STUB_GO)
    (stub / "go").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}{os.pathsep}{os.environ['PATH']}", "STUB_DIR": str(stub),
           cache_variable: str(tmp_path / "cache"), "HOME": str(tmp_path / "home")}

    def start(label: str) -> tuple[subprocess.Popen, Path]:
        stderr = tmp_path / f"{label}.err"
        with open(stderr, "w") as handle:
            process = subprocess.Popen(["bash", str(REPO / script), *args], cwd=tmp_path, env=env,
                                       stdout=subprocess.PIPE, stderr=handle, text=True)
        return process, stderr

    first, first_err = start("first")
    try:
        wait_until((stub / "busy").exists, first, "the first run reaches go")
        second, second_err = start("second")
        try:
            def second_waits() -> bool:
                # Until the release, the first run sits in its first go call: a second call is the second run's.
                assert len((stub / "calls").read_text().splitlines()) == 1, "the second run did not wait"
                return "waiting for it" in second_err.read_text()

            wait_until(second_waits, second, "the second run waits")
        finally:
            (stub / "release").touch()
            second_out = second.communicate(timeout=120)[0]
    finally:
        (stub / "release").touch()
        first_out = first.communicate(timeout=120)[0]
    assert first.returncode == 0, first_err.read_text()
    assert second.returncode == 0, second_err.read_text()
    assert first_out == second_out and Path(first_out.strip()).is_relative_to(tmp_path / "cache")
    assert Path(first_out.strip()).exists()
    assert "reusing" in second_err.read_text()
    # go did one run's work: the second run never built or fetched anything.
    assert (stub / "calls").read_text().splitlines() == one_run

    third = subprocess.run(["bash", str(REPO / script), *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, check=True)
    assert third.stdout == first_out and "reusing" in third.stderr
    assert (stub / "calls").read_text().splitlines() == one_run
