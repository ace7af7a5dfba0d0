"""Refuse collection content changes that carry no changelog fragment.

antsibull-changelog builds CHANGELOG.rst from changelogs/fragments/*.yml at release time and then deletes them
(keep_fragments: false), so a change merged without a fragment is silently missing from the next release notes.
This check runs in `make lint`:

    python tools/check_fragments.py [--repo PATH]

The base is the last release: the newest commit whose changelogs/changelog.yaml records a version its parent did
not (the file was committed with `releases: {}` long before any release, so "the last commit that touched it"
would take that commit for a release). Without a release the base is the repository's first commit. Collection
content changed between the base and the working tree (commits, staged, unstaged and untracked files) needs at
least one fragment added or modified in the same span; a fragment left over from before the base does not count.

Exit status: 0 covered (or nothing to cover), 1 content changed without a fragment, 2 the check could not run
(no git history, not a repository, unreadable changelog).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_REPO = Path(__file__).resolve().parents[1]
CHANGELOG = "changelogs/changelog.yaml"
CONFIG = "changelogs/config.yaml"
FRAGMENTS_DIR = "changelogs/fragments/"
# config.yaml sets ignore_other_fragment_extensions, so antsibull-changelog reads only these.
FRAGMENT_SUFFIXES = (".yml", ".yaml")
# What ends up in the built collection or changes how it installs; docs, tests, CI and the Makefile do not.
CONTENT_DIRS = ("plugins/", "roles/", "playbooks/", "meta/")
CONTENT_FILES = ("galaxy.yml", "requirements.txt", "bindep.txt")
DOCS_HINT = 'docs/operations.md, "Changelog and releases"'


class CheckError(Exception):
    """The check cannot run on this repository; the message says why and what to do."""


@dataclass(frozen=True)
class Change:
    status: str  # A(dded), M(odified), D(eleted), or ? for untracked
    path: str


@dataclass(frozen=True)
class Base:
    commit: str
    description: str


def git(repo: Path, *args: str) -> str:
    """stdout of a git command in repo; a failure becomes a CheckError carrying git's own message."""
    try:
        completed = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise CheckError("git is not installed") from error
    if completed.returncode != 0:
        raise CheckError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def ensure_full_history(repo: Path) -> None:
    """A shallow clone ends at a grafted commit, so neither the last release nor the first commit is known and
    every file would look changed or unchanged by accident; say so instead of guessing."""
    if git(repo, "rev-parse", "--is-inside-work-tree").strip() != "true":
        raise CheckError(f"{repo} is not a git work tree")
    if git(repo, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise CheckError(f"{repo} is a shallow clone: the last release cannot be found without history; "
                         "run `git fetch --unshallow` (CI: a full clone, fetch-depth: 0)")
    try:
        git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except CheckError as error:
        raise CheckError(f"{repo} has no commits yet: there is no history to compare against") from error


def recorded_versions(text: str | None, where: str) -> frozenset[str]:
    """The versions a changelog.yaml text records; none for a missing file."""
    if text is None:
        return frozenset()
    try:
        changelog = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise CheckError(f"{CHANGELOG} at {where} is not valid YAML: {error}") from error
    releases = changelog.get("releases") if isinstance(changelog, dict) else None
    return frozenset(str(version) for version in releases or {})


def changelog_at(repo: Path, commit: str) -> str | None:
    """changelog.yaml as committed in commit, None where that commit has no such file."""
    listed = git(repo, "ls-tree", "--name-only", commit, "--", CHANGELOG).strip()
    return git(repo, "show", f"{commit}:{CHANGELOG}") if listed else None


def release_base(repo: Path) -> Base | None:
    """The newest commit that added a version to changelog.yaml, walking the commits that touched the file."""
    for commit in git(repo, "log", "--format=%H", "--", CHANGELOG).split():
        versions = recorded_versions(changelog_at(repo, commit), commit[:12])
        parents = git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
        previous = recorded_versions(changelog_at(repo, parents[0]), parents[0][:12]) if parents else frozenset()
        if versions - previous:
            return Base(commit, f"release {', '.join(sorted(versions - previous))} ({commit[:12]})")
    return None


def find_base(repo: Path) -> Base:
    base = release_base(repo)
    if base is None:
        # rev-list lists newest first; the last root is the oldest (one root unless unrelated histories merged).
        first = git(repo, "rev-list", "--max-parents=0", "HEAD").split()[-1]
        base = Base(first, f"the first commit ({first[:12]}, no release yet)")
    try:
        git(repo, "cat-file", "-e", f"{base.commit}^{{commit}}")
    except CheckError as error:
        raise CheckError(f"base commit {base.commit} is missing from {repo}; fetch the full history") from error
    return base


def pending_release(repo: Path) -> bool:
    """True while `antsibull-changelog release` has run but is not committed: it has consumed the fragments
    that cover the changes, which the check must not then ask for again."""
    changelog = repo / CHANGELOG
    working = recorded_versions(changelog.read_text() if changelog.exists() else None, "the working tree")
    return bool(working - recorded_versions(changelog_at(repo, "HEAD"), "HEAD"))


def changes_since(repo: Path, base: str) -> list[Change]:
    """Files that differ between base and the working tree: committed, staged and unstaged changes (git diff
    against a commit compares with the working tree) plus untracked files .gitignore does not exclude."""
    # --no-renames: a move shows as a deletion and an addition, so a fragment moved in counts as added.
    fields = git(repo, "diff", "--name-status", "--no-renames", "-z", base).split("\0")
    changes = [Change(status, path) for status, path in zip(fields[0::2], fields[1::2])]
    untracked = git(repo, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    return changes + [Change("?", path) for path in untracked if path]


def is_content(path: str) -> bool:
    return path.startswith(CONTENT_DIRS) or path in CONTENT_FILES


def is_fragment(change: Change) -> bool:
    return (change.status != "D" and change.path.startswith(FRAGMENTS_DIR)
            and change.path.endswith(FRAGMENT_SUFFIXES))


def fragment_sections(repo: Path) -> set[str]:
    config_file = repo / CONFIG
    try:
        config = yaml.safe_load(config_file.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise CheckError(f"cannot read {CONFIG}: {error}") from error
    sections = {section[0] for section in config.get("sections") or []}
    return sections | {config.get("prelude_section_name", "release_summary"),
                       config.get("trivial_section_name", "trivial")}


def fragment_problem(repo: Path, path: str, sections: set[str]) -> str | None:
    """Why a fragment cannot count as covering a change, or None. Kept to the shape only: `antsibull-changelog
    lint` (the line before this check in `make lint`) validates entries in full; this stops an empty or
    misspelt file from passing as the fragment that documents a change."""
    try:
        fragment = yaml.safe_load((repo / path).read_text())
    except (OSError, yaml.YAMLError) as error:
        return f"unreadable: {error}"
    if not isinstance(fragment, dict) or not fragment:
        return "not a mapping of section names to entries"
    unknown = sorted(str(key) for key in fragment if key not in sections)
    if unknown:
        return f"unknown section(s) {', '.join(unknown)}; sections are {', '.join(sorted(sections))}"
    return None


def check(repo: Path) -> tuple[int, str]:
    """Exit status and the message for it."""
    ensure_full_history(repo)
    if pending_release(repo):
        return 0, f"check_fragments: OK: {CHANGELOG} records a release not committed yet; it consumed the fragments"
    base = find_base(repo)
    changes = changes_since(repo, base.commit)
    content = [change for change in changes if is_content(change.path)]
    if not content:
        return 0, f"check_fragments: OK: no collection content changed since {base.description}"
    sections = fragment_sections(repo)
    fragments = sorted(change.path for change in changes if is_fragment(change))
    problems = {path: fragment_problem(repo, path, sections) for path in fragments}
    covering = [path for path in fragments if problems[path] is None]
    if covering:
        return 0, (f"check_fragments: OK: {len(content)} content file(s) changed since {base.description}, "
                   f"covered by {', '.join(covering)}")
    lines = [f"check_fragments: {len(content)} collection content file(s) changed since {base.description} "
             "without a changelog fragment:"]
    lines += [f"  {change.status} {change.path}" for change in content]
    lines += [f"  (fragment {path} does not count: {problem})" for path, problem in problems.items()]
    lines.append(f"Add {FRAGMENTS_DIR}<issue>-<topic>.yml describing the change under a section from {CONFIG} "
                 "(minor_changes, bugfixes, ...; `trivial` for a change users do not notice); "
                 f"see {DOCS_HINT}.")
    return 1, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO,
                        help="git work tree of the collection (default: the one holding this script)")
    args = parser.parse_args(argv)
    try:
        status, message = check(args.repo.resolve())
    except CheckError as error:
        print(f"check_fragments: error: {error}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
