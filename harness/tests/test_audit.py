"""Counting writes in the audit log: marks, users and dry runs."""
import json

from harness.controlplane.audit import AuditLog


def _event(verb, user="aphex-admin", uri="/api/v1/namespaces/x/configmaps", resource="configmaps", name="c"):
    return json.dumps({"kind": "Event", "verb": verb, "user": {"username": user}, "requestURI": uri,
                       "responseStatus": {"code": 200},
                       "objectRef": {"resource": resource, "namespace": "x", "name": name}}) + "\n"


def test_writes_since_a_mark_exclude_reads_dry_runs_and_other_users(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(_event("create", name="before"))
    log = AuditLog(path)
    mark = log.mark()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(_event("get"))
        handle.write(_event("create", uri="/api/v1/namespaces/x/configmaps?dryRun=All"))
        handle.write(_event("patch", name="after"))
        handle.write(_event("update", user="system:serviceaccount:kube-system:namespace-controller"))
    writes = log.writes(since=mark, user="aphex-admin")
    assert [(w.verb, w.name) for w in writes] == [("patch", "after")]
    assert [e.verb for e in log.events(since=mark, user="aphex-admin")] == ["get", "create", "patch"]
    assert [w.name for w in log.writes()] == ["before", "after", "c"]


def test_mark_of_a_missing_log_is_zero(tmp_path):
    assert AuditLog(tmp_path / "absent.log").mark() == 0
