"""The collection as a user installs it: built by ansible-galaxy from a tree - this checkout, or a released
version's tree exported from git - and installed into a collections path of its own."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from harness import REPO
from harness.playbooks import PlaybookRun, run_playbook

BIN = Path(sys.executable).parent


class ReleaseNotFound(LookupError):
    pass


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=False, capture_output=True, text=True).stdout.strip()


def release_commit(version: str) -> str:
    """The commit of release `version`: its tag v<version> where this clone has it, else the commit that recorded
    the release in changelogs/changelog.yaml (antsibull-changelog's release commit, which also set galaxy.yml's
    version) - tags do not travel with every clone, the history does."""
    tagged = _git("rev-parse", "--verify", "--quiet", f"refs/tags/v{version}^{{commit}}")
    if tagged:
        return tagged
    pattern = rf"^  {re.escape(version)}:$"
    for commit in _git("log", "--reverse", "--format=%H", "-G", pattern, "--", "changelogs/changelog.yaml").split():
        galaxy = _git("show", f"{commit}:galaxy.yml")
        if re.search(rf"(?m)^version: {re.escape(version)}$", galaxy):
            return commit
    raise ReleaseNotFound(
        f"release {version}: no tag v{version} and no commit recording it in changelogs/changelog.yaml with "
        f"galaxy.yml at {version} (a shallow clone? `git fetch --unshallow`)")


def export_tree(commit: str, destination: Path) -> Path:
    """The files of `commit`, as `git archive` gives them, in destination."""
    destination.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO, check=True, stdout=archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(destination, filter="data")
    return destination


def _galaxy(*args: str, env=None) -> None:
    done = subprocess.run([str(BIN / "ansible-galaxy"), "collection", *args], check=False, capture_output=True,
                          text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"ansible-galaxy collection {args[0]} failed:\n{done.stdout}{done.stderr}")


def install_collection(source: Path, folder: Path, env=None) -> Path:
    """Build the collection of `source` into folder and install the tarball into folder/collections (kubernetes.core
    and the rest come from the ansible package: no Galaxy server is reachable). The installed collection's root."""
    _galaxy("build", "--force", "--output-path", str(folder), str(source), env=env)
    [tarball] = folder.glob("aphex-platform-*.tar.gz")
    collections = folder / "collections"
    _galaxy("install", "--no-deps", "--force", "-p", str(collections), str(tarball), env=env)
    return collections / "ansible_collections" / "aphex" / "platform"


def installed_version(root: Path) -> str:
    return json.loads((root / "MANIFEST.json").read_text())["collection_info"]["version"]


def install_release(version: str, folder: Path) -> Path:
    """Release `version` built from its commit and installed under folder: the installed collection's root."""
    source = export_tree(release_commit(version), folder / "source")
    root = install_collection(source, folder)
    if installed_version(root) != version:
        raise ReleaseNotFound(f"release {version}: its commit builds version {installed_version(root)}")
    return root


def run_installed(root: Path, playbook: str, *args: str) -> PlaybookRun:
    """A playbook of the installed collection at root, as its user runs it: that collection's path alone, none of
    this checkout's Ansible configuration (roles_path, collections_path)."""
    collections = root.parents[2]
    # A file that exists: with ANSIBLE_CONFIG naming none, Ansible would read the checkout's (the working folder's)
    stock = collections / "stock-ansible.cfg"
    stock.write_text("[defaults]\n")
    return run_playbook(root / "playbooks" / f"{playbook}.yml", *args, extra_env={
        "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_CONFIG": str(stock)})
