"""harness/builds/build-cert-manager.sh refuses a cert-manager controller that could dial out of the machine: a build
whose package list holds an issuer type that talks to an outside service (ACME, Vault, Venafi) stops before
compiling. A stand-in `go` answers `go list -deps` with the package list under test."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO
from harness.platform.catalog import catalog_entries
SCRIPT = REPO / "harness/builds/build-cert-manager.sh"
STUB_GO = f"""#!{sys.executable}
import os, pathlib, sys
args = sys.argv[1:]
if args[:1] == ["env"]:
    print({{"GOVERSION": "go1.26.8", "GOOS": "linux", "GOARCH": "amd64"}}[args[1]])
elif args[:2] == ["list", "-deps"]:
    print(os.environ["STUB_PACKAGES"].replace(",", "\\n"))
elif args[:1] == ["build"]:
    output = pathlib.Path(args[args.index("-o") + 1])
    output.write_text("#!/bin/sh\\n")
    output.chmod(0o755)
    (pathlib.Path(os.environ["STUB_DIR"]) / "built").touch()
"""
CERT_MANAGER = "github.com/cert-manager/cert-manager"
LOCAL_ONLY = [f"{CERT_MANAGER}/pkg/issuer/ca", f"{CERT_MANAGER}/pkg/issuer/selfsigned",
              f"{CERT_MANAGER}/pkg/controller/certificaterequests/ca", f"{CERT_MANAGER}/pkg/acme/client"]


def build(tmp_path: Path, packages: list) -> subprocess.CompletedProcess:
    stub = tmp_path / "stub"
    stub.mkdir(exist_ok=True)
    (stub / "go").write_text(STUB_GO)
    (stub / "go").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}{os.pathsep}{os.environ['PATH']}", "STUB_DIR": str(stub),
           "STUB_PACKAGES": ",".join(packages), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False)


def test_issuers_that_need_only_the_api_server_build(tmp_path):
    result = build(tmp_path, LOCAL_ONLY)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "stub/built").exists()
    assert Path(result.stdout.strip()).name == "cert-manager-controller"


@pytest.mark.parametrize("package", [
    f"{CERT_MANAGER}/pkg/issuer/acme", f"{CERT_MANAGER}/pkg/issuer/acme/dns/cloudflare",
    f"{CERT_MANAGER}/pkg/issuer/vault", f"{CERT_MANAGER}/pkg/issuer/venafi",
    f"{CERT_MANAGER}/pkg/controller/acmeorders", f"{CERT_MANAGER}/pkg/controller/certificaterequests/acme"])
def test_an_issuer_that_dials_out_is_refused_before_compiling(tmp_path, package):
    result = build(tmp_path, [*LOCAL_ONLY, package])
    assert result.returncode == 1
    assert package in result.stderr and "refusing to build" in result.stderr
    assert not (tmp_path / "stub/built").exists()


def test_the_controller_is_built_from_the_release_the_catalog_pins():
    """The chart and the controller standing for its Deployment move together: a chart upgrade that left the
    controller behind would test the new CRDs and RBAC against the old code."""
    catalog = catalog_entries()
    [chart] = [entry["source"]["helm"] for entry in catalog if entry["name"] == "cert-manager"]
    requires = (REPO / "harness/builds/cert-manager-controller/go.mod").read_text().split()
    assert requires[requires.index(CERT_MANAGER) + 1] == chart["version"]
