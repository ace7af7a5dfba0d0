"""Issue 11 item 6: the EventListener accepted pull_request events, but the binding read the push-only field
`body.after`, so a pull request either started a run of the wrong commit or none at all. The pipeline's Trigger
now filters to the events it can build and puts the commit to build in extensions.git_revision; these tests run
its CEL filter and overlay (cel-python, the CEL language Tekton's cel interceptor evaluates) and then the
organization's TriggerBinding over GitHub webhook payloads of each shape."""
from __future__ import annotations

import json
import re
from pathlib import Path

import celpy
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
    EVENT_TYPES,
    TRIGGER_BINDING_NAME,
    TenancySettings,
    render_organization,
    render_pipeline,
)

PAYLOADS = Path(__file__).parent / "fixtures" / "github"
PIPELINE = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "x"}, "spec": {"tasks": []}}
HEAD = "4f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"

# file, X-GitHub-Event, whether a run starts, the commit it builds
CASES = [
    ("push.json", "push", True, HEAD),
    ("push-branch-deleted.json", "push", False, None),
    ("pull_request-opened.json", "pull_request", True, HEAD),
    ("pull_request-synchronize.json", "pull_request", True, HEAD),
    ("pull_request-reopened.json", "pull_request", True, HEAD),
    ("pull_request-closed.json", "pull_request", False, None),
    ("pull_request-labeled.json", "pull_request", False, None),
]


def _objects(kind: str) -> list:
    settings = TenancySettings()
    org = {"name": "acme", "display_name": "ACME", "admin_users": ["admin@acme.io"]}
    pipeline = {"name": "web", "organization": "acme", "repo": "acme-corp/web"}
    objects = render_organization(org, ["web"], "c2VjcmV0", settings)
    objects += render_pipeline(pipeline, PIPELINE, "c2VjcmV0", settings)
    return [o for o in objects if o["kind"] == kind]


def _cel(expression: str, body: dict, event: str, extensions=None):
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    return program.evaluate({"body": celpy.json_to_cel(body),
                             "header": celpy.json_to_cel({"X-Github-Event": [event]}),
                             "extensions": celpy.json_to_cel(extensions or {})})


def _resolve(value: str, body: dict, extensions: dict, header: dict) -> str:
    """A TriggerBinding value as Tekton resolves it: each $(body.a.b) / $(extensions.k) / $(header.H) must exist."""
    def one(match):
        root, *path = match.group(1).split(".")
        node = {"body": body, "extensions": extensions, "header": header}[root]
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"{match.group(0)} does not exist in the event")
            node = node[part]
        return node if isinstance(node, str) else json.dumps(node)
    return re.sub(r"\$\(([^)]+)\)", one, value)


def _deliver(name: str, event: str):
    """What one delivery gives the pipeline: None when filtered out, else the binding's parameters."""
    body = json.loads((PAYLOADS / name).read_text())
    [listener] = _objects("EventListener")
    interceptor = listener["spec"]["triggerGroups"][0]["interceptors"][0]
    accepted = {p["name"]: p["value"] for p in interceptor["params"]}["eventTypes"]
    if event not in accepted:
        return None
    [trigger] = _objects("Trigger")
    params = {p["name"]: p["value"] for p in trigger["spec"]["interceptors"][0]["params"]}
    if not bool(_cel(params["filter"], body, event)):
        return None
    extensions = {overlay["key"]: str(_cel(overlay["expression"], body, event)) for overlay in params["overlays"]}
    [binding] = _objects("TriggerBinding")
    assert binding["metadata"]["name"] == TRIGGER_BINDING_NAME
    assert trigger["spec"]["bindings"][0] == {"ref": TRIGGER_BINDING_NAME}
    header = {"X-Github-Event": event, "X-Github-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    return {p["name"]: _resolve(p["value"], body, extensions, header) for p in binding["spec"]["params"]}


@pytest.mark.parametrize("name, event, runs, revision", CASES, ids=[c[0] for c in CASES])
def test_each_github_event_either_runs_the_right_commit_or_is_filtered_out(name, event, runs, revision):
    """Issue 11 item 6: every accepted event can be read by the binding; the commit built is the event's own."""
    params = _deliver(name, event)
    if not runs:
        assert params is None
        return
    assert params == {"git-url": "https://github.com/acme-corp/web.git", "git-revision": revision}


def test_pull_requests_from_forks_build_from_the_base_repository():
    """The fork's URL is never cloned: the head commit is fetched from the tenant's own repository."""
    params = _deliver("pull_request-opened.json", "pull_request")
    body = json.loads((PAYLOADS / "pull_request-opened.json").read_text())
    assert body["pull_request"]["head"]["repo"]["clone_url"] != params["git-url"]


def test_events_of_another_repository_are_filtered_out():
    body = json.loads((PAYLOADS / "push.json").read_text())
    body["repository"]["full_name"] = "acme-corp/other"
    [trigger] = _objects("Trigger")
    params = {p["name"]: p["value"] for p in trigger["spec"]["interceptors"][0]["params"]}
    assert not bool(_cel(params["filter"], body, "push"))


def test_the_listener_accepts_exactly_the_events_the_filter_handles():
    assert EVENT_TYPES == ("push", "pull_request")
    assert _deliver("push.json", "issues") is None
