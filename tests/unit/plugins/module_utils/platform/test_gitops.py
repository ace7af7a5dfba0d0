"""The platform repository's code (module_utils/platform/gitops.py): the rendered children as one folder per app,
and the one commit that makes a branch hold them - against real git repositories on this machine (file://)."""
import json
import subprocess

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.platform.gitops import (
    Repository,
    RepositoryError,
    application_manifest,
    blob_id,
    converge_repository,
    repository_files,
)

from tests.unit.fixtures.catalog import render

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "op",
       "GIT_AUTHOR_EMAIL": "op@example.test", "GIT_COMMITTER_NAME": "op", "GIT_COMMITTER_EMAIL": "op@example.test"}


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=ENV).stdout.strip()


@pytest.fixture
def remote(tmp_path):
    """A bare repository with the operator's own README on main, as file:// URL."""
    bare = tmp_path / "platform.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    work = tmp_path / "operator"
    git("clone", "--quiet", str(bare), str(work))
    (work / "README.md").write_text("our platform\n")
    git("add", "README.md", cwd=work)
    git("commit", "--quiet", "-m", "start", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    return f"file://{bare}", bare


def tree(bare, ref="main") -> dict:
    names = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", ref).splitlines()
    return {name: git("--git-dir", str(bare), "show", f"{ref}:{name}") for name in names}


def test_each_child_is_its_own_folder_with_the_application_the_chart_would_render():
    children = render("kind")
    files = repository_files(children, "/clusters/lab/")
    assert set(files) == {f"clusters/lab/{name}/application.yaml" for name in children}
    tekton = json.loads(files["clusters/lab/tekton-pipelines/application.yaml"])
    values = children["tekton-pipelines"]
    assert tekton["metadata"] == {"name": "tekton-pipelines", "namespace": "argocd",
                                  "annotations": values["additionalAnnotations"],
                                  "labels": values["additionalLabels"], "finalizers": values["finalizers"]}
    assert tekton["spec"] == {key: values[key] for key in ("project", "source", "destination", "syncPolicy")
                              if key in values} | ({"ignoreDifferences": values["ignoreDifferences"]}
                                                   if values.get("ignoreDifferences") else {})
    # the same children are the same bytes
    assert repository_files(render("kind"), "clusters/lab") == files


def test_what_the_chart_leaves_out_when_empty_is_left_out():
    manifest = application_manifest("a", {"project": "platform", "destination": {"server": "s"}, "finalizers": [],
                                          "ignoreDifferences": [], "additionalAnnotations": {"w": 3}})
    assert manifest["metadata"] == {"name": "a", "annotations": {"w": "3"}}
    assert manifest["spec"] == {"project": "platform", "destination": {"server": "s"}}


def test_blob_ids_are_gits(tmp_path):
    (tmp_path / "f").write_text("kind: Application\n")
    assert blob_id("kind: Application\n") == git("hash-object", str(tmp_path / "f"))


def test_the_first_run_commits_the_folder_and_keeps_the_rest_of_the_branch(remote):
    url, bare = remote
    children = render("kind")
    result = converge_repository(url, "main", "platform", children)
    assert result["changed"] and result["added"] == sorted(f"platform/{n}/application.yaml" for n in children)
    assert git("--git-dir", str(bare), "rev-parse", "main") == result["commit"]
    held = tree(bare)
    assert held.pop("README.md") == "our platform"
    assert held == {name: text.rstrip("\n") for name, text in repository_files(children, "platform").items()}
    assert git("--git-dir", str(bare), "log", "-1", "--format=%an <%ae>", "main") == \
        "aphex.platform bootstrap <bootstrap@aphex.platform>"


def test_a_second_run_makes_no_commit(remote):
    url, bare = remote
    first = converge_repository(url, "main", "platform", render("kind"))
    again = converge_repository(url, "main", "platform", render("kind"))
    assert again == {"changed": False, "commit": first["commit"], "added": [], "modified": [], "removed": []}
    assert git("--git-dir", str(bare), "rev-list", "--count", "main") == "2"


def test_one_changed_app_is_one_modified_file_and_a_dropped_app_a_removed_one(remote):
    url, bare = remote
    children = render("kind")
    converge_repository(url, "main", "platform", children)
    children["tekton-pipelines"]["syncPolicy"]["syncOptions"] = ["ServerSideApply=true"]
    dropped = children.pop("ingress-nginx")
    assert dropped
    result = converge_repository(url, "main", "platform", children)
    assert result["modified"] == ["platform/tekton-pipelines/application.yaml"]
    assert result["removed"] == ["platform/ingress-nginx/application.yaml"] and result["added"] == []
    assert "platform/ingress-nginx/application.yaml" not in tree(bare)
    assert git("--git-dir", str(bare), "rev-list", "--count", "main") == "3"


def test_check_mode_reports_the_change_and_pushes_nothing(remote):
    url, bare = remote
    before = git("--git-dir", str(bare), "rev-parse", "main")
    result = converge_repository(url, "main", "platform", render("kind"), check_mode=True)
    assert result["changed"] and result["commit"] == before and result["added"]
    assert git("--git-dir", str(bare), "rev-parse", "main") == before


def test_a_branch_that_does_not_exist_yet_is_created(remote):
    url, bare = remote
    result = converge_repository(url, "lab-a", "", render("kind"))
    assert git("--git-dir", str(bare), "rev-parse", "lab-a") == result["commit"]
    assert "README.md" not in tree(bare, "lab-a")


def test_a_push_made_meanwhile_is_never_overwritten(remote, tmp_path):
    url, bare = remote
    with Repository(url, "main") as repository:
        parent = repository.fetch()
        commit = repository.commit(parent, [], repository_files(render("kind"), "platform"), "render")
        # the operator pushes between our fetch and our push
        work = tmp_path / "operator"
        (work / "README.md").write_text("changed meanwhile\n")
        git("commit", "--quiet", "-am", "meanwhile", cwd=work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=work)
        theirs = git("rev-parse", "HEAD", cwd=work)
        with pytest.raises(RepositoryError, match=r"git push of file://.* \(branch main\) failed"):
            repository.push(commit, parent)
    assert git("--git-dir", str(bare), "rev-parse", "main") == theirs


def test_a_missing_repository_is_a_clear_error_without_the_password(tmp_path):
    with pytest.raises(RepositoryError) as raised:
        converge_repository(f"file://{tmp_path}/nothing.git", "main", "platform", render("kind"),
                            username="bootstrap", password="s3cret-token")
    message = str(raised.value)
    assert message.startswith(f"git ls-remote of file://{tmp_path}/nothing.git (branch main) failed")
    assert "s3cret-token" not in message
