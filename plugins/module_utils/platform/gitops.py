# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform from the operator's Git repository (the platform_apps module's `repository`): the rendered
app-of-apps as files - one folder per app holding its Application, its values and its sync wave - and the one
commit that puts them on the repository's branch when they differ from what it holds.

Git runs as a program: no library to install on the controller, and the same client the operator uses. The
repository's password reaches git through GIT_ASKPASS and the process environment, never its arguments (which
every user of the host can read) nor its URL (which git prints in its errors)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import ARGOCD_V1ALPHA1

APPLICATION_FILE = "application.yaml"
AUTHOR = {"GIT_AUTHOR_NAME": "aphex.platform bootstrap", "GIT_AUTHOR_EMAIL": "bootstrap@aphex.platform",
          "GIT_COMMITTER_NAME": "aphex.platform bootstrap", "GIT_COMMITTER_EMAIL": "bootstrap@aphex.platform"}
# What the argocd-apps chart copies from an application's values into its Application (`with`: only when set).
_METADATA = (("additionalAnnotations", "annotations"), ("additionalLabels", "labels"), ("namespace", "namespace"),
             ("finalizers", "finalizers"))
_SPEC = ("source", "sources", "destination", "syncPolicy", "revisionHistoryLimit", "ignoreDifferences", "info")


class RepositoryError(AphexError):
    """The platform repository cannot be read or written; the message says which and why, never a credential."""


def application_manifest(name: str, values: dict) -> dict:
    """The Application the argocd-apps chart renders from one entry of its `applications` value, as an object, so
    the children are the same whether platform-root deploys the chart or the repository's folders."""
    metadata = {"name": name}
    for key, field in _METADATA:
        if values.get(key):
            metadata[field] = {str(k): str(v) for k, v in values[key].items()} if field == "annotations" \
                else values[key]
    spec = {"project": values["project"]}
    spec.update({key: values[key] for key in _SPEC if values.get(key) or key == "destination"})
    return {"apiVersion": ARGOCD_V1ALPHA1, "kind": "Application", "metadata": metadata, "spec": spec}


def repository_folder(path: str) -> str:
    """The folder as git and ArgoCD name it: no leading or trailing slash, "." for the branch's root."""
    return path.strip("/") or "."


def repository_files(applications: dict, path: str) -> dict:
    """{file path in the repository: text}: <path>/<app>/application.yaml for each child. JSON is YAML, and its
    keys sorted make the same children the same bytes, so an unchanged platform is an unchanged tree."""
    folder = repository_folder(path)
    prefix = "" if folder == "." else f"{folder}/"
    return {f"{prefix}{name}/{APPLICATION_FILE}":
            json.dumps(application_manifest(name, values), indent=2, sort_keys=True) + "\n"
            for name, values in sorted(applications.items())}


def blob_id(text: str) -> str:
    """The object id git gives a file's content (SHA-1 of its blob), to compare without writing anything."""
    data = text.encode()
    # SHA-1 because it is git's object name, not for any secrecy
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repository:
    """One branch of a remote repository, fetched into a scratch repository of its own."""

    def __init__(self, url: str, branch: str, username: str = "", password: str = "", timeout: int = 60):
        self.url, self.branch, self.timeout = url, branch, timeout
        self._scratch = tempfile.TemporaryDirectory(prefix="aphex-platform-repository-")
        # a repository whose work tree stays empty: files go from text to blobs to a tree without a checkout
        self.work = os.path.join(self._scratch.name, "work")
        askpass = os.path.join(self._scratch.name, "askpass")
        with open(askpass, "w", encoding="utf-8") as script:
            # git asks "Username for ..." then "Password for ..."; the answers stay in this process's environment
            script.write('#!/bin/sh\ncase "$1" in Username*) printf %s "$APHEX_GIT_USERNAME" ;; '
                         '*) printf %s "$APHEX_GIT_PASSWORD" ;; esac\n')
        os.chmod(askpass, 0o700)
        self._env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self._scratch.name,
                     "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": askpass,
                     "APHEX_GIT_USERNAME": username, "APHEX_GIT_PASSWORD": password, "LC_ALL": "C", **AUTHOR}
        self._secrets = [value for value in (password,) if value]
        os.mkdir(self.work)
        self._git("init", "--quiet")

    def close(self) -> None:
        self._scratch.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def _git(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(["git", *args], input=stdin, capture_output=True, text=True, check=False,
                                    env=self._env, timeout=self.timeout, cwd=self.work)
        except FileNotFoundError as error:
            raise RepositoryError("git is not installed on the controller; the platform repository needs it") \
                from error
        except subprocess.TimeoutExpired as error:
            raise RepositoryError(f"git {args[0]} of {self.url} did not answer within {self.timeout} s") from error
        if check and result.returncode != 0:
            raise RepositoryError(f"git {args[0]} of {self.url} (branch {self.branch}) failed: "
                                  f"{self._redacted(result.stderr.strip())}")
        return result

    def _redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def fetch(self) -> str:
        """The branch's commit, fetched; '' when the repository has no such branch yet (a first bootstrap). A
        repository that does not answer, or refuses the credentials, is an error."""
        listed = self._git("ls-remote", "--heads", self.url, f"refs/heads/{self.branch}")
        if not listed.stdout.strip():
            return ""
        self._git("fetch", "--quiet", "--depth", "1", self.url,
                  f"+refs/heads/{self.branch}:refs/remotes/platform/{self.branch}")
        return self._git("rev-parse", f"refs/remotes/platform/{self.branch}").stdout.strip()

    def files_under(self, commit: str, path: str) -> dict:
        """{file path: blob id} of the commit's files under path ({} without a commit)."""
        if not commit:
            return {}
        listed = self._git("ls-tree", "-r", "-z", "--full-tree", commit, "--", repository_folder(path)).stdout
        files = {}
        for entry in filter(None, listed.split("\0")):
            info, name = entry.split("\t", 1)
            files[name] = info.split()[2]
        return files

    def commit(self, parent: str, replaced: list, files: dict, message: str) -> str:
        """A commit on parent with the files `replaced` gone and `files` ({path: text}) written, the rest of the
        tree kept."""
        if parent:
            self._git("read-tree", parent)
        else:
            self._git("read-tree", "--empty")
        for name in replaced:
            self._git("update-index", "--force-remove", "--", name)
        for name, text in sorted(files.items()):
            blob = self._git("hash-object", "-w", "--stdin", stdin=text).stdout.strip()
            self._git("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}")
        tree = self._git("write-tree").stdout.strip()
        return self._git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message).stdout.strip()

    def push(self, commit: str, parent: str) -> None:
        """The branch moved to commit - only from parent: a push made meanwhile by someone else is never
        overwritten (git refuses a push that is not a fast-forward, and the lease names what was expected)."""
        lease = f"--force-with-lease=refs/heads/{self.branch}:{parent}" if parent else \
            f"--force-with-lease=refs/heads/{self.branch}:"
        self._git("push", "--quiet", lease, self.url, f"{commit}:refs/heads/{self.branch}")


def converge_repository(url: str, branch: str, path: str, applications: dict, username: str = "",
                        password: str = "", check_mode: bool = False, message: str = "") -> dict:
    """Make the branch's folder `path` hold the rendered children: one commit, pushed, only when a file differs.
    Returns {changed, commit (the branch's commit after), added, modified, removed (file paths)}."""
    wanted = repository_files(applications, path)
    with Repository(url, branch, username, password) as repository:
        parent = repository.fetch()
        held = repository.files_under(parent, path)
        wanted_ids = {name: blob_id(text) for name, text in wanted.items()}
        added = sorted(set(wanted_ids) - set(held))
        removed = sorted(set(held) - set(wanted_ids))
        modified = sorted(name for name in set(wanted_ids) & set(held) if wanted_ids[name] != held[name])
        changed = bool(added or removed or modified)
        commit = parent
        if changed and not check_mode:
            commit = repository.commit(parent, sorted(held), wanted, message or
                                       f"aphex.platform: the platform's applications ({len(wanted)}) in {path}")
            repository.push(commit, parent)
    return {"changed": changed, "commit": commit, "added": added, "modified": modified, "removed": removed}
