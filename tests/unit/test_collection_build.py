"""`ansible-galaxy collection build` packs the content and leaves local state out; installed from that tarball, the
collection tells ansible-builder exactly what it needs at run time (issue 14 item 3)."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from harness import REPO
BIN = Path(sys.executable).parent
# The developer toolchain: none of it may reach an execution environment.
TOOLCHAIN = {"ansible", "molecule", "molecule-plugins", "pytest", "ansible-lint", "antsibull-changelog",
             "ansible-builder", "cel-python", "docker"}


def _clean_environment(cwd: Path) -> dict:
    """An environment that does not see the checkout's ansible.cfg (its collections path holds the checkout)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    environment["ANSIBLE_CONFIG"] = str(cwd / "absent.cfg")
    return environment


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("build")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(REPO)],
                   check=True, capture_output=True, text=True)
    [built] = output.glob("aphex-platform-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    """The tarball installed the way a user does, into a collections path of its own (dependencies are not
    fetched: no Galaxy server is reachable here)."""
    where = tmp_path_factory.mktemp("installed")
    # --force: a copy installed elsewhere (molecule installs the collection under test into ~/.ansible) would
    # otherwise make ansible-galaxy answer "already installed" and put nothing here
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p",
                    str(where / "collections"), str(tarball)], check=True, capture_output=True, text=True, cwd=where,
                   env=_clean_environment(where))
    assert (where / "collections" / "ansible_collections" / "aphex" / "platform" / "MANIFEST.json").is_file()
    return where / "collections"


def test_build_produces_a_tarball_with_content_and_without_local_state(tarball):
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "aphex"
    assert manifest["collection_info"]["name"] == "platform"
    assert "kubernetes.core" in manifest["collection_info"]["dependencies"]
    assert {"meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "bindep.txt", "CHANGELOG.rst",
            "roles/host_prereqs/tasks/main.yml", "roles/host_prereqs/meta/argument_specs.yml"} <= names
    for local_state in (".venv", ".cluster", ".collections", "build", ".git"):
        assert not any(name == local_state or name.startswith(local_state + "/") for name in names), local_state


def _package(requirement: str) -> str:
    """The distribution name of a requirement line ('kubernetes>=24.2.0  # from ...' -> 'kubernetes')."""
    name = requirement.split("#")[0].strip()
    for separator in ("[", "<", ">", "=", "!", "~", ";", " "):
        name = name.split(separator)[0]
    return name.lower()


def test_introspection_of_the_installed_collection_lists_only_runtime_packages(installed):
    """ansible-builder introspect turned the whole developer toolchain into an EE's Python dependencies."""
    result = subprocess.run([str(BIN / "ansible-builder"), "introspect", "--sanitize", str(installed)],
                            check=True, capture_output=True, text=True)
    found = yaml.safe_load(result.stdout)
    python = {_package(line) for line in found["python"]}
    assert python == {"kubernetes", "cloudflare"}, result.stdout  # PyYAML is sanitized: ansible-core brings it
    assert not python & TOOLCHAIN
    runtime = {_package(line) for line in (REPO / "requirements.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert python <= runtime
    assert {line.split("#")[0].strip() for line in found["system"]} == {
        "openssh-client [platform:dpkg]", "openssh-clients [platform:rpm]"}


def test_the_documented_execution_environment_creates_a_build_context(tarball, tmp_path):
    """docs/examples/execution-environment.yml, used as its comment says, gives a complete build context (the
    image itself needs a registry, which this machine cannot reach)."""
    definition = REPO / "docs" / "examples" / "execution-environment.yml"
    shutil.copy(definition, tmp_path)
    shutil.copy(tarball, tmp_path)
    result = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml",
                             "-c", "context"], cwd=tmp_path, capture_output=True, text=True,
                            env=_clean_environment(tmp_path), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Containerfile for podman, Dockerfile where docker is the runtime it finds
    assert [path.name for path in (tmp_path / "context").glob("*file")] in (["Containerfile"], ["Dockerfile"])
    build = tmp_path / "context" / "_build"
    assert (build / "collections" / tarball.name).is_file(), "the example names another version's tarball"
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    assert {"name": f"collections/{tarball.name}", "type": "file"} in requirements["collections"]
