"""Issue 14 item 5: `make lint` refuses a change to the collection's content that carries no changelog fragment
(tools/check_fragments.py). The fragments are deleted at each release, so a change without one is missing
from the release notes with nothing failing; these tests run the check on throwaway repositories whose history
has the shape that matters (a release commit, fragments before and after it, uncommitted work)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import REPO
SCRIPT = REPO / "tools/check_fragments.py"
# Commits in the throwaway repositories must not depend on the caller's git identity or global settings
# (commit signing, hooks, a default branch name).
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Fragment Test", "GIT_AUTHOR_EMAIL": "fragments@example.invalid",
    "GIT_COMMITTER_NAME": "Fragment Test", "GIT_COMMITTER_EMAIL": "fragments@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
NO_RELEASE = "---\nancestor: null\nreleases: {}\n"
RELEASED = yaml.safe_dump({"ancestor": None, "releases": {"0.1.0": {
    "changes": {"minor_changes": ["first release"]}, "release_date": "2025-01-01"}}})
FRAGMENT = "minor_changes:\n  - example - does something new.\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], env=GIT_ENV, capture_output=True, text=True,
                          check=True).stdout


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)


def run_check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--repo", str(repo)], env=GIT_ENV, capture_output=True,
                          text=True, check=False)


@pytest.fixture(name="collection")
def collection_fixture(tmp_path):
    """A collection whose first commit has the real changelog config, an empty changelog and a plugin."""
    repo = tmp_path / "collection"
    repo.mkdir()
    git(repo, "init", "--quiet")
    write(repo, "changelogs/config.yaml", (REPO / "changelogs/config.yaml").read_text())
    write(repo, "changelogs/changelog.yaml", NO_RELEASE)
    write(repo, "plugins/modules/example.py", "VERSION = 1\n")
    write(repo, "docs/operations.md", "# Operations\n")
    commit(repo, "first commit")
    return repo


@pytest.fixture(name="released")
def released_fixture(collection):
    """The same collection after a release: changelog.yaml records 0.1.0 and the fragment before it is gone."""
    write(collection, "changelogs/fragments/1-first.yml", FRAGMENT)
    write(collection, "plugins/modules/example.py", "VERSION = 2\n")
    commit(collection, "a change with its fragment")
    (collection / "changelogs/fragments/1-first.yml").unlink()
    write(collection, "changelogs/changelog.yaml", RELEASED)
    commit(collection, "release 0.1.0")
    return collection


def test_a_committed_content_change_without_a_fragment_fails_naming_the_file(released):
    write(released, "plugins/modules/example.py", "VERSION = 3\n")
    commit(released, "change without fragment")

    result = run_check(released)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "M plugins/modules/example.py" in result.stderr
    assert "release 0.1.0" in result.stderr
    assert "changelogs/fragments/" in result.stderr and "docs/operations.md" in result.stderr


def test_a_new_fragment_covers_the_change(released):
    write(released, "plugins/modules/example.py", "VERSION = 3\n")
    write(released, "changelogs/fragments/2-next.yml", FRAGMENT)
    commit(released, "change with fragment")

    result = run_check(released)

    assert result.returncode == 0, result.stderr
    assert "1 content file(s)" in result.stdout and "changelogs/fragments/2-next.yml" in result.stdout


def test_docs_tests_and_tooling_need_no_fragment(released):
    """Only what ships in the collection reaches users, so the rule must not tax documentation and test work."""
    write(released, "docs/operations.md", "# Operations\n\nMore.\n")
    write(released, "tests/unit/test_example.py", "def test_nothing():\n    pass\n")
    write(released, "Makefile", "lint:\n\ttrue\n")
    commit(released, "docs and tests")

    result = run_check(released)

    assert result.returncode == 0, result.stderr
    assert "no collection content changed since release 0.1.0" in result.stdout


@pytest.mark.parametrize("staged", [False, True], ids=["unstaged", "staged"])
def test_an_uncommitted_content_change_without_a_fragment_fails(released, staged):
    """`make lint` runs before the commit, so work still in the tree must be held to the rule too."""
    write(released, "roles/example/tasks/main.yml", "- ansible.builtin.debug:\n    msg: hi\n")
    if staged:
        git(released, "add", "roles")

    result = run_check(released)

    assert result.returncode == 1
    assert f"{'A' if staged else '?'} roles/example/tasks/main.yml" in result.stderr


def test_an_uncommitted_fragment_covers_an_uncommitted_change(released):
    write(released, "galaxy.yml", "version: 0.2.0\n")
    write(released, "changelogs/fragments/2-next.yml", FRAGMENT)

    assert run_check(released).returncode == 0


def test_a_fragment_from_before_the_release_does_not_cover_a_new_change(collection):
    """A fragment kept past a release (by hand, or with keep_fragments) already went into that release's notes;
    letting it cover later changes would let every later change through."""
    write(collection, "changelogs/fragments/1-first.yml", FRAGMENT)
    commit(collection, "fragment before the release")
    write(collection, "changelogs/changelog.yaml", RELEASED)
    commit(collection, "release 0.1.0 keeping the fragment")
    write(collection, "plugins/modules/example.py", "VERSION = 3\n")
    commit(collection, "change after the release")

    result = run_check(collection)

    assert result.returncode == 1
    assert "M plugins/modules/example.py" in result.stderr

    # Tidying the leftover away is a change under changelogs/fragments/ too, but it documents nothing.
    (collection / "changelogs/fragments/1-first.yml").unlink()
    result = run_check(collection)
    assert result.returncode == 1
    assert "1-first.yml" not in result.stderr


def test_without_a_release_changes_since_the_first_commit_need_a_fragment(collection):
    write(collection, "meta/runtime.yml", "requires_ansible: '>=2.16'\n")
    commit(collection, "content before any release")
    assert run_check(collection).returncode == 1

    write(collection, "changelogs/fragments/1-first.yml", FRAGMENT)
    commit(collection, "its fragment")
    result = run_check(collection)

    assert result.returncode == 0, result.stderr
    assert "since the first commit" in result.stdout


def test_a_changelog_committed_without_a_release_is_not_a_release(tmp_path):
    """The real repository added changelog.yaml with `releases: {}` in a later commit than its first; taking that
    commit for a release would drop the changes before it from the check."""
    repo = tmp_path / "collection"
    repo.mkdir()
    git(repo, "init", "--quiet")
    write(repo, "plugins/modules/example.py", "VERSION = 1\n")
    commit(repo, "first commit")
    write(repo, "plugins/modules/example.py", "VERSION = 2\n")
    write(repo, "changelogs/config.yaml", (REPO / "changelogs/config.yaml").read_text())
    write(repo, "changelogs/changelog.yaml", NO_RELEASE)
    commit(repo, "changelog set up, content changed, no fragment")

    result = run_check(repo)

    assert result.returncode == 1
    assert "since the first commit" in result.stderr and "plugins/modules/example.py" in result.stderr


def test_a_release_not_yet_committed_passes(released):
    """`antsibull-changelog release` deletes the fragments it consumed and galaxy.yml's version was bumped; the
    check must not then fail `make lint` before the release is committed."""
    write(released, "changelogs/fragments/2-next.yml", FRAGMENT)
    write(released, "plugins/modules/example.py", "VERSION = 3\n")
    commit(released, "change with fragment")
    (released / "changelogs/fragments/2-next.yml").unlink()
    write(released, "galaxy.yml", "version: 0.2.0\n")
    changelog = yaml.safe_load(RELEASED)
    changelog["releases"]["0.2.0"] = {"release_date": "2025-02-01"}
    write(released, "changelogs/changelog.yaml", yaml.safe_dump(changelog))

    result = run_check(released)

    assert result.returncode == 0, result.stderr
    assert "release not committed yet" in result.stdout


@pytest.mark.parametrize("text", ["", "- a list\n", "minor_change:\n  - misspelt section\n"],
                         ids=["empty", "list", "unknown-section"])
def test_a_malformed_fragment_does_not_count(released, text):
    """An empty or misspelt file must not pass for the fragment that documents a change."""
    write(released, "plugins/modules/example.py", "VERSION = 3\n")
    write(released, "changelogs/fragments/2-next.yml", text)

    result = run_check(released)

    assert result.returncode == 1
    assert "fragment changelogs/fragments/2-next.yml does not count" in result.stderr


def test_a_shallow_clone_is_a_clear_error_not_a_traceback(released, tmp_path):
    """Without history neither the last release nor the first commit is known; guessing would pass or fail
    at random, so the check stops and says how to get the history."""
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{released}", str(shallow))

    result = run_check(shallow)

    assert result.returncode == 2
    assert "shallow clone" in result.stderr and "git fetch --unshallow" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_repository_is_a_clear_error(tmp_path):
    result = run_check(tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("check_fragments: error:") and "Traceback" not in result.stderr


def test_the_real_repository_passes():
    """The collection itself: its content changes since the first commit are covered by its fragments."""
    result = run_check(REPO)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("check_fragments: OK:")
