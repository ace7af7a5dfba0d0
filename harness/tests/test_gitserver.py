"""The loopback Git server serves what publish() committed to a real `git clone`, commit after commit, and refuses a
push over HTTP - unless it serves private repositories, to its users only, who may push."""
from __future__ import annotations

import subprocess

import pytest

from harness.gitserver import publish, running


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "repos"
    with running(root) as url:
        yield root, url


@pytest.fixture
def private_server(tmp_path):
    """The server with one user, `operator`, who may push."""
    root = tmp_path / "private"
    with running(root, {"operator": "correct-horse"}) as url:
        yield root, url


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
                               "GIT_TERMINAL_PROMPT": "0"}).stdout.strip()


def test_a_clone_gets_the_published_tree_and_a_fetch_the_next_commit(server, tmp_path):
    root, url = server
    first = publish(root, "acme-corp/web", {"deploy/app.yaml": "kind: ConfigMap\n", "README": "web\n"})
    assert git("ls-remote", f"{url}/acme-corp/web.git").splitlines() == [f"{first}\tHEAD", f"{first}\trefs/heads/main"]
    git("clone", "--quiet", f"{url}/acme-corp/web.git", str(tmp_path / "web"))
    assert (tmp_path / "web" / "deploy" / "app.yaml").read_text() == "kind: ConfigMap\n"
    second = publish(root, "acme-corp/web", {"deploy/app.yaml": "kind: Secret\n"})
    git("fetch", "--quiet", "origin", cwd=tmp_path / "web")
    assert git("rev-parse", "origin/main", cwd=tmp_path / "web") == second
    assert git("rev-parse", f"{second}^", cwd=tmp_path / "web") == first
    # The whole tree is replaced: README is gone from the second commit.
    assert git("ls-tree", "-r", "--name-only", second, cwd=tmp_path / "web") == "deploy/app.yaml"


def test_the_same_tree_gives_the_same_commit_and_publishing_it_again_makes_none(tmp_path):
    files = {"deploy/app.yaml": "kind: ConfigMap\n"}
    first = publish(tmp_path / "a", "o/r", files)
    assert publish(tmp_path / "b", "o/r", files) == first
    assert publish(tmp_path / "a", "o/r", files, "again") == first
    assert git("--git-dir", str(tmp_path / "a" / "o" / "r.git"), "rev-list", "--count", "main") == "1"


def test_nothing_can_be_pushed_over_http(server, tmp_path):
    root, url = server
    published = publish(root, "acme-corp/web", {"a": "1\n"})
    git("clone", "--quiet", f"{url}/acme-corp/web.git", str(tmp_path / "web"))
    (tmp_path / "web" / "a").write_text("2\n")
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet", "-am", "change", cwd=tmp_path / "web")
    pushed = subprocess.run(["git", "push", "origin", "main"], cwd=tmp_path / "web", capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_TERMINAL_PROMPT": "0"},
                            check=False)
    assert pushed.returncode != 0
    assert git("ls-remote", f"{url}/acme-corp/web.git", "refs/heads/main").split()[0] == published


def test_a_folder_is_published_as_its_files_relative_to_it(tmp_path):
    from harness.gitserver import tree_of

    (tmp_path / "src" / "deploy").mkdir(parents=True)
    (tmp_path / "src" / "deploy" / "a.yaml").write_text("kind: A\n")
    (tmp_path / "src" / "README").write_text("r\n")
    assert tree_of(tmp_path / "src") == {"README": "r\n", "deploy/a.yaml": "kind: A\n"}


def test_a_private_repository_takes_the_platforms_commit_from_its_user_and_nothing_without_it(private_server):
    from ansible_collections.aphex.platform.plugins.module_utils.platform.gitops import (
        RepositoryError, converge_repository)

    root, url = private_server
    publish(root, "ops/platform", {"README.md": "ours\n"})
    repository = f"{url}/ops/platform.git"
    children = {"tekton": {"project": "platform", "destination": {"server": "https://kubernetes.default.svc"},
                           "additionalAnnotations": {"argocd.argoproj.io/sync-wave": "1"}}}
    # anonymous: not even a listing
    listed = subprocess.run(["git", "ls-remote", repository], capture_output=True, text=True, check=False,
                            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_TERMINAL_PROMPT": "0"})
    assert listed.returncode != 0
    with pytest.raises(RepositoryError) as refused:
        converge_repository(repository, "main", "platform", children, "operator", "wrong-password")
    assert "wrong-password" not in str(refused.value) and "ops/platform.git" in str(refused.value)
    result = converge_repository(repository, "main", "platform", children, "operator", "correct-horse")
    assert result["changed"] and result["added"] == ["platform/tekton/application.yaml"]
    bare = str(root / "ops" / "platform.git")
    assert git("--git-dir", bare, "rev-parse", "main") == result["commit"]
    assert git("--git-dir", bare, "show", "main:README.md") == "ours"
    assert converge_repository(repository, "main", "platform", children, "operator", "correct-horse")["changed"] \
        is False
