"""The collection's pipeline catalog, contract v1 (files/pipeline-catalog/v1): Tekton v1 shapes, tasks that
resolve within the catalog, and a pipeline that takes exactly what the organization's dispatcher passes."""
from __future__ import annotations

import re

import yaml
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import _dispatcher_template

from harness import REPO

CATALOG_V1 = [doc for path in sorted((REPO / "files/pipeline-catalog/v1").glob("*.yaml"))
              for doc in yaml.safe_load_all(path.read_text())]


def test_pipeline_catalog_objects_have_the_tekton_v1_shape():
    assert {doc["metadata"]["name"] for doc in CATALOG_V1} == {
        "git-clone-v1", "buildah-build-v1", "kubectl-apply-v1", "argocd-application-v1", "python-test-v1",
        "build-and-deploy-v1"}
    for doc in CATALOG_V1:
        name = doc["metadata"]["name"]
        assert doc["apiVersion"] == "tekton.dev/v1" and doc["kind"] in ("Task", "Pipeline"), name
        assert doc["metadata"]["namespace"] == "pipeline-catalog", name
        assert doc["metadata"]["labels"]["aphex.io/catalog-version"].startswith("1."), name
        assert name.endswith("-v" + doc["metadata"]["labels"]["aphex.io/catalog-api"][1:]), name
        params = doc["spec"].get("params", [])
        assert len({p["name"] for p in params}) == len(params), name
        for param in params:
            assert param.get("type", "string") in ("string", "array", "object"), (name, param)
        if doc["kind"] == "Task":
            assert doc["spec"]["steps"], name
            declared = {p["name"] for p in params}
            text = yaml.safe_dump(doc["spec"]["steps"])
            used = {ref.split("[")[0] for ref in re.findall(r"\$\(params\.([-\w\[\]*]+)\)", text)}
            assert used <= declared, (name, used - declared)
            for step in doc["spec"]["steps"]:
                assert step.get("image"), (name, step["name"])
                context = step.get("securityContext", {})
                assert not context.get("privileged") and context.get("allowPrivilegeEscalation") is False, \
                    (name, step["name"])


def test_catalog_pipeline_tasks_resolve_within_the_catalog():
    tasks = {doc["metadata"]["name"] for doc in CATALOG_V1 if doc["kind"] == "Task"}
    pipeline = next(doc for doc in CATALOG_V1 if doc["kind"] == "Pipeline")
    for task in pipeline["spec"]["tasks"]:
        params = {p["name"]: p["value"] for p in task["taskRef"]["params"]}
        assert task["taskRef"]["resolver"] == "cluster" and params["kind"] == "task"
        assert params["name"] in tasks and params["namespace"] == "pipeline-catalog"


def test_catalog_pipeline_tasks_pass_what_their_tasks_declare():
    tasks = {doc["metadata"]["name"]: doc for doc in CATALOG_V1 if doc["kind"] == "Task"}
    pipeline = next(doc for doc in CATALOG_V1 if doc["kind"] == "Pipeline")
    for entry in pipeline["spec"]["tasks"]:
        task = tasks[{p["name"]: p["value"] for p in entry["taskRef"]["params"]}["name"]]["spec"]
        declared = {p["name"]: p for p in task.get("params", [])}
        passed = {p["name"] for p in entry.get("params", [])}
        assert passed <= set(declared), (entry["name"], passed - set(declared))
        assert {name for name, p in declared.items() if "default" not in p} <= passed, entry["name"]


def test_the_catalog_pipeline_deploys_the_pushed_revision_of_its_own_repository():
    pipeline = next(doc for doc in CATALOG_V1 if doc["metadata"]["name"] == "build-and-deploy-v1")
    deploy = next(task for task in pipeline["spec"]["tasks"] if task["name"] == "deploy")
    assert {p["name"]: p["value"] for p in deploy["params"]} == {
        "app-name": "$(context.pipelineRun.namespace)", "repo-url": "$(params.git-url)",
        "repo-revision": "$(params.git-revision)", "manifest-path": "$(params.deploy-path)"}


def test_contract_v1_lines_up_with_the_dispatcher():
    """What run-pipeline-v1 passes is exactly what a contract-v1 pipeline accepts, types included."""
    dispatcher = _dispatcher_template("p", {}, "org-x")
    run = dispatcher["spec"]["resourcetemplates"][0]
    passed = {p["name"]: ("array" if isinstance(p["value"], list) else "string") for p in run["spec"]["params"]}
    pipeline = next(doc for doc in CATALOG_V1 if doc["metadata"]["name"] == "build-and-deploy-v1")
    accepted = {p["name"]: p.get("type", "string") for p in pipeline["spec"]["params"]}
    required = {name for name, p in ((p["name"], p) for p in pipeline["spec"]["params"]) if "default" not in p}
    assert required <= set(passed), required - set(passed)
    assert {name: accepted[name] for name in passed} == passed
    assert [w["name"] for w in run["spec"]["workspaces"]] == [w["name"] for w in pipeline["spec"]["workspaces"]]
