"""Issue 25 item 1, the platform from the operator's Git repository, on a real ArgoCD (built from its Go module)
fetching from a private Git server on loopback (`git http-backend`, harness/gitserver.py): bootstrap commits the
platform's apps into the repository - one folder per app - and platform-root syncs that folder; a commit the
operator pushes that changes two apps' values is applied by ArgoCD without Ansible, wave by wave; its revert rolls
it back; a second bootstrap makes no commit and no write; the repository's password, from ArgoCD's repository
Secret, is never printed; a repository that is not there fails the run by name and nothing is written."""
from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timezone

import pytest
from kubernetes import client, dynamic

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.gitserver import publish, repository_path, running
from harness.inventory import bootstrap, tenant_writes
from harness.kube import get, wait_for
from harness.platform.live import (TEST_MODE, applications, bootstrapped_platform, only_apps, platform_inventory,
                                   resync_overlaps)

# Three quick apps of two waves (their objects are the collection's own manifests: Healthy once applied).
KEPT = {"gpu", "platform-crds", "platform-rbac"}
CHANGED = ("gpu", "platform-rbac")  # waves 3 and 5
REPOSITORY = "ops/platform"
FOLDER = "clusters/lab"
USER, PASSWORD = "bootstrap", "pl4tform-repo-s3cret"
LABEL = "aphex.test/changed-through-git"
GIT_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Operator",
           "GIT_AUTHOR_EMAIL": "operator@example.test", "GIT_COMMITTER_NAME": "Operator",
           "GIT_COMMITTER_EMAIL": "operator@example.test"}


def _git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env=GIT_ENV).stdout.strip()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository_secret(url: str):
    """What the operator creates before the first bootstrap: ArgoCD's repository Secret for the URL."""
    def create(api):
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": "argocd"}})
        core.create_namespaced_secret("argocd", {
            "metadata": {"name": "platform-repository", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
            "stringData": {"type": "git", "url": url, "username": USER, "password": PASSWORD}})
    return create


def _first_object(application: dict) -> dict:
    return application["spec"]["source"]["helm"]["valuesObject"]["resources"][0]


def _labelled(api, manifest: dict) -> bool:
    metadata = manifest["metadata"]
    live = get(api, manifest["apiVersion"], manifest["kind"], metadata["name"], metadata.get("namespace")) or {}
    return LABEL in ((live.get("metadata") or {}).get("labels") or {})


def _refresh(api) -> None:
    """What the repository's webhook to ArgoCD does: platform-root looks at the branch again now."""
    dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1", kind="Application").patch(
        name="platform-root", namespace="argocd", content_type="application/merge-patch+json",
        body={"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})


def _converged(api) -> bool:
    states = {name: (app.get("status", {}).get("sync", {}).get("status"),
                     app.get("status", {}).get("health", {}).get("status"))
              for name, app in applications(api).items()}
    return states == {name: ("Synced", "Healthy") for name in KEPT | {"platform-root"}}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    work = tmp_path_factory.mktemp("platform-repository")
    root = work / "git"
    publish(root, REPOSITORY, {"README.md": "The lab's platform.\n"})
    with running(root, {USER: PASSWORD}) as server:
        url = f"{server}/{REPOSITORY}.git"
        with bootstrapped_platform(work, "kind", TEST_MODE, before_first_run=_repository_secret(url),
                                   aphex_apps_overrides=only_apps("kind", KEPT),
                                   aphex_platform_repository={"url": url, "path": FOLDER}) as live:
            live.update(url=url, bare=repository_path(root, REPOSITORY), work=work, server=server,
                        audit=AuditLog(live["plane"].audit_log))
            yield live


@pytest.fixture(scope="module")
def operator_clone(platform):
    clone = platform["work"] / "operator"
    _git("clone", "--quiet", str(platform["bare"]), str(clone))
    return clone


def test_bootstrap_commits_one_folder_per_app_and_platform_root_syncs_it(platform):
    first = platform["first"]
    assert first.returncode == 0, first.output[-6000:]
    assert PASSWORD not in first.output
    bare = str(platform["bare"])
    files = set(_git("--git-dir", bare, "ls-tree", "-r", "--name-only", "main").splitlines())
    assert files == {"README.md"} | {f"{FOLDER}/{name}/application.yaml" for name in KEPT}
    assert _git("--git-dir", bare, "log", "-1", "--format=%an", "main") == "aphex.platform bootstrap"
    root = applications(platform["api"])["platform-root"]
    assert root["spec"]["source"] == {"repoURL": platform["url"], "targetRevision": "main", "path": FOLDER,
                                      "directory": {"recurse": True}}
    assert root["status"]["sync"]["revision"] == _git("--git-dir", bare, "rev-parse", "main")
    assert _converged(platform["api"])


def test_a_pushed_change_to_two_apps_is_applied_by_argocd_wave_by_wave(platform, operator_clone):
    api, changed = platform["api"], {}
    for name in CHANGED:
        path = operator_clone / FOLDER / name / "application.yaml"
        application = json.loads(path.read_text())
        _first_object(application)["metadata"].setdefault("labels", {})[LABEL] = "yes"
        path.write_text(json.dumps(application, indent=2, sort_keys=True) + "\n")
        changed[name] = _first_object(application)
    _git("commit", "--quiet", "-am", "Label the GPU runtime class and the platform's RBAC", cwd=operator_clone)
    since = _now()
    _git("push", "--quiet", "origin", "main", cwd=operator_clone)
    _refresh(api)
    assert wait_for(lambda: all(_labelled(api, manifest) for manifest in changed.values()), timeout=180), changed
    assert wait_for(lambda: _converged(api), timeout=120), applications(api)
    apps = applications(api)
    resynced = {name for name, app in apps.items() if name != "platform-root"
                and app["status"]["operationState"]["startedAt"] >= since}
    assert set(CHANGED) <= resynced, resynced
    assert resync_overlaps(apps, since) == []
    platform["changed"] = changed


def test_check_and_diff_name_the_files_bootstrap_would_rewrite_and_push_nothing(platform):
    """The branch now differs from the inventory's rendering: what the next bootstrap would do to it."""
    head = _git("--git-dir", str(platform["bare"]), "rev-parse", "main")
    mark = platform["audit"].mark()
    preview = bootstrap(platform["inventory"], "--check", "--diff")
    assert preview.returncode == 0, preview.output[-6000:]
    [result] = [result for result in preview.changed_results if "repository" in result]
    rewritten = [f"{FOLDER}/{name}/application.yaml" for name in CHANGED]
    assert result["repository"] == {"commit": head, "added": [], "modified": rewritten, "removed": []}
    [diff] = [diff for diff in result["diff"] if diff.get("before_header", "").startswith(platform["url"])]
    assert diff["after"] == "".join(f"{name}\n" for name in rewritten)
    assert _git("--git-dir", str(platform["bare"]), "rev-parse", "main") == head
    assert tenant_writes(platform["audit"], mark, ADMIN_USER) == []


def test_reverting_the_commit_rolls_the_change_back(platform, operator_clone):
    api, changed = platform["api"], platform["changed"]
    _git("revert", "--no-edit", "HEAD", cwd=operator_clone)
    _git("push", "--quiet", "origin", "main", cwd=operator_clone)
    _refresh(api)
    assert wait_for(lambda: not any(_labelled(api, manifest) for manifest in changed.values()), timeout=180)
    assert wait_for(lambda: _converged(api), timeout=120), applications(api)


def test_a_second_bootstrap_makes_no_commit_and_no_write_and_prints_no_password(platform):
    head = _git("--git-dir", str(platform["bare"]), "rev-parse", "main")
    mark = platform["audit"].mark()
    again = bootstrap(platform["inventory"], "-vvv")
    assert again.returncode == 0 and again.changed == 0, (again.changed_tasks, again.failed_results)
    assert _git("--git-dir", str(platform["bare"]), "rev-parse", "main") == head
    assert tenant_writes(platform["audit"], mark, ADMIN_USER) == []
    assert PASSWORD not in again.output
    assert base64.b64encode(PASSWORD.encode()).decode() not in again.output


def test_a_repository_that_is_not_there_fails_by_name_and_nothing_is_written(platform):
    inventory = platform_inventory(platform["work"] / "inventory-absent", platform["plane"], platform["info"],
                                   "kind", TEST_MODE, aphex_apps_overrides=only_apps("kind", KEPT),
                                   aphex_platform_repository={"url": f"{platform['server']}/ops/absent.git",
                                                              "path": FOLDER})
    before = applications(platform["api"])["platform-root"]["spec"]
    mark = platform["audit"].mark()
    failed = bootstrap(inventory)
    assert failed.returncode != 0
    messages = " ".join(str(result.get("msg", "")) for _task, result in failed.failed_results)
    assert "ops/absent.git" in messages and "Traceback" not in failed.output, messages
    print("the absent repository:", messages)
    # Ansible wrote nothing, and platform-root still follows the repository (ArgoCD keeps writing its status)
    assert tenant_writes(platform["audit"], mark, ADMIN_USER) == []
    assert applications(platform["api"])["platform-root"]["spec"] == before
