"""Read the control plane's audit log to count the requests a test made.

Take a mark before the action, then ask what happened since:

    mark = audit.mark()
    run_the_playbook()
    assert audit.writes(since=mark, user=ADMIN_USER) == []
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class AuditEvent:
    verb: str
    user: str
    uri: str
    code: int
    resource: str
    namespace: str
    name: str

    @property
    def dry_run(self) -> bool:
        return "dryRun=All" in self.uri

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS and not self.dry_run

    @classmethod
    def from_json(cls, record: dict) -> "AuditEvent":
        target = record.get("objectRef") or {}
        return cls(
            verb=record.get("verb", ""),
            user=(record.get("user") or {}).get("username", ""),
            uri=record.get("requestURI", ""),
            code=(record.get("responseStatus") or {}).get("code", 0),
            resource=target.get("resource", ""),
            namespace=target.get("namespace", ""),
            name=target.get("name", ""),
        )


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def events(self, since: int = 0, user: str | None = None) -> list[AuditEvent]:
        with open(self.path, "rb") as handle:
            handle.seek(since)
            records = [json.loads(line) for line in handle if line.strip()]
        events = [AuditEvent.from_json(record) for record in records]
        return [event for event in events if user is None or event.user == user]

    def writes(self, since: int = 0, user: str | None = None) -> list[AuditEvent]:
        """Requests that changed (or tried to change) stored state; dry runs excluded."""
        return [event for event in self.events(since, user) if event.is_write]
