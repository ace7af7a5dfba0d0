"""Finding a released version's commit without its tag, and exporting its tree."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from harness import REPO
from harness.collection import ReleaseNotFound, export_tree, release_commit

RELEASED = next(iter(yaml.safe_load((REPO / "changelogs/changelog.yaml").read_text())["releases"]))


def test_a_release_is_the_commit_that_recorded_it_with_its_galaxy_version(tmp_path):
    commit = release_commit(RELEASED)
    changelog = subprocess.run(["git", "show", f"{commit}:changelogs/changelog.yaml"], cwd=REPO, check=True,
                               capture_output=True, text=True).stdout
    assert RELEASED in yaml.safe_load(changelog)["releases"]
    # the commit before it had not recorded it
    parent = subprocess.run(["git", "show", f"{commit}~1:changelogs/changelog.yaml"], cwd=REPO, check=False,
                            capture_output=True, text=True).stdout
    assert RELEASED not in ((yaml.safe_load(parent) or {}).get("releases") or {})
    tree = export_tree(commit, tmp_path / "tree")
    assert yaml.safe_load((tree / "galaxy.yml").read_text())["version"] == RELEASED


def test_a_version_never_released_is_named_in_the_error():
    with pytest.raises(ReleaseNotFound, match=r"^release 99\.0\.0: no tag v99\.0\.0 and no commit recording it"):
        release_commit("99.0.0")
