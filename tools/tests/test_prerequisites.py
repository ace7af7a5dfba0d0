"""The README's commands set the machine up themselves: with a prerequisite missing that cannot be installed,
`make demo` and `make test` stop before anything else runs with one line naming it and how to get it - never a
traceback. Installation itself is seen in every CI run on a fresh machine (.ci/run -> make test)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from harness import REPO


def path_without(tmp_path, *commands: str) -> str:
    """A PATH with every command of this one but the named ones (links in one folder, first found wins)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = os.path.join(directory, name)
            if name not in commands and not (folder / name).exists() and os.access(target, os.X_OK) \
                    and os.path.isfile(target):
                (folder / name).symlink_to(target)
    return str(folder)


def make(target: str, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", target], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "APHEX_INSTALL": "no", **environment}, timeout=120, check=False)


@pytest.mark.parametrize("target, command, package", [("demo", "redis-server", "redis-server"),
                                                      ("test", "debootstrap", "debootstrap")])
def test_a_command_that_cannot_be_installed_is_named_with_how_to_get_it(tmp_path, target, command, package):
    path = path_without(tmp_path, command)
    assert shutil.which(command, path=path) is None  # else `make test` would run the whole suite here
    run = make(target, PATH=path)
    assert run.returncode != 0
    ours = [line for line in run.stderr.splitlines() if line.startswith("aphex: ")]
    assert ours == [f"aphex: {package} is missing and cannot be installed here (it needs apt-get as root or "
                    f"passwordless sudo): install it with `sudo apt-get install {package}`"]
    assert "Traceback" not in run.stdout + run.stderr
    assert "python" not in run.stdout  # stopped before the virtualenv or anything else


def test_a_missing_shared_folder_is_named(tmp_path):
    run = make("demo", APHEX_SHARED=str(tmp_path / "shared"))
    assert run.returncode != 0
    assert [line for line in run.stderr.splitlines() if line.startswith("aphex: ")] == [
        f"aphex: {tmp_path}/shared/charts {tmp_path}/shared/upstream missing (the shared folder beside the checkout: "
        "the upstream chart archives and sources the local platform is built from): put it there, or point "
        "APHEX_SHARED at it"]
    assert "Traceback" not in run.stdout + run.stderr


def test_a_go_too_old_for_the_builds_is_named(tmp_path):
    fake = tmp_path / "old-go"
    fake.mkdir()
    (fake / "go").write_text("#!/bin/sh\n[ \"$1 $2\" = 'env GOVERSION' ] && echo go1.19.8\n")
    (fake / "go").chmod(0o755)
    run = make("demo", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert run.returncode != 0
    assert f"aphex: Go >= 1.26 is needed, {fake}/go is go1.19.8: install a newer one from https://go.dev/dl/" in \
        run.stderr.splitlines()


def test_a_machine_with_everything_passes_silently():
    run = subprocess.run(["bash", "tools/prerequisites.sh", "demo"], cwd=REPO, capture_output=True, text=True,
                         check=False, env={**os.environ, "APHEX_INSTALL": "no"})
    assert (run.returncode, run.stderr) == (0, "")
