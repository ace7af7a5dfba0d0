# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time against a cluster: a coordination.k8s.io Lease held for the length of a run.

Two runs that onboard overlapping tenants, or one that prunes while another onboards, would otherwise interleave
their reads and writes, and each would report a state the other then changed. Every change to the Lease carries
the resourceVersion it was read at, so two runs racing for it cannot both win. A Lease whose holder stopped
renewing it (a killed run) expires after its duration and is then taken over.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApiError, ConflictError

LEASE = ("coordination.k8s.io/v1", "Lease")
LOCK_NAME = "aphex-platform-run"
# kube-system exists on every cluster, before the platform's own namespaces do (and holds Kubernetes' own locks).
LOCK_NAMESPACE = "kube-system"
POLL_SECONDS = 2.0


class LockError(ClusterApiError):
    """The lock is held by another run, or this run lost it."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value) -> datetime | None:
    """A Lease MicroTime ("2026-12-01T19:00:00.123456Z") as an aware datetime."""
    if not value:
        return None
    text = str(value).rstrip("Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)


class RunLock:
    def __init__(self, api, holder: str, lease_seconds: int = 1800, namespace: str = LOCK_NAMESPACE,
                 name: str = LOCK_NAME, clock=time.monotonic, sleep=time.sleep):
        self.api = api
        self.namespace = namespace
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.name = name
        self.clock = clock
        self.sleep = sleep

    @property
    def where(self) -> str:
        return f"Lease {self.namespace}/{self.name}"

    def read(self):
        return self.api.get(*LEASE, self.name, self.namespace)

    def _spec(self, acquired: datetime, transitions: int) -> dict:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.lease_seconds,
                "acquireTime": _timestamp(acquired), "renewTime": _timestamp(_now()),
                "leaseTransitions": transitions}

    def describe(self, lease: dict) -> str:
        spec = lease.get("spec") or {}
        since = spec.get("acquireTime") or "an unknown time"
        renewed = _parse(spec.get("renewTime"))
        expires = (f"; it expires at {_timestamp(renewed + timedelta(seconds=spec.get('leaseDurationSeconds') or 0))}"
                   if renewed else "")
        return f"held by {spec.get('holderIdentity') or '(nobody)'} since {since}{expires}"

    def expired(self, lease: dict) -> bool:
        spec = lease.get("spec") or {}
        renewed = _parse(spec.get("renewTime"))
        if not spec.get("holderIdentity") or renewed is None:
            return True
        return renewed + timedelta(seconds=spec.get("leaseDurationSeconds") or 0) < _now()

    def held_by_me(self, lease) -> bool:
        return bool(lease) and (lease.get("spec") or {}).get("holderIdentity") == self.holder and not self.expired(lease)

    def acquire(self, timeout: float) -> dict:
        """Take the lock, waiting up to timeout seconds for another run to release it. Returns
        {"waited": seconds, "taken_over": previous holder of an expired lease or None}."""
        started = self.clock()
        while True:
            lease = self.read()
            try:
                if lease is None:
                    self.api.create({"apiVersion": LEASE[0], "kind": LEASE[1],
                                     "metadata": {"name": self.name, "namespace": self.namespace},
                                     "spec": self._spec(_now(), 0)})
                    return {"waited": round(self.clock() - started, 1), "taken_over": None}
                spec = lease.get("spec") or {}
                mine = spec.get("holderIdentity") == self.holder
                if mine or self.expired(lease):
                    acquired = _parse(spec.get("acquireTime")) if mine else _now()
                    transitions = (spec.get("leaseTransitions") or 0) + (0 if mine else 1)
                    self.api.replace({"apiVersion": LEASE[0], "kind": LEASE[1],
                                      "metadata": {"name": self.name, "namespace": self.namespace,
                                                   "resourceVersion": lease["metadata"]["resourceVersion"]},
                                      "spec": self._spec(acquired or _now(), transitions)})
                    taken = None if mine or not spec.get("holderIdentity") else spec.get("holderIdentity")
                    return {"waited": round(self.clock() - started, 1), "taken_over": taken}
            except ConflictError:
                continue  # another run changed it between our read and write: read again
            if self.clock() - started >= timeout:
                raise LockError(f"another run holds the run lock of this cluster ({self.where}, "
                                f"{self.describe(lease)}); waited {timeout:g} s. Wait for that run to finish; if it "
                                f"was killed, the lock frees itself when it expires, or delete {self.where}")
            self.sleep(POLL_SECONDS)

    def release(self) -> bool:
        """Give the lock back if this run holds it; False when it did not (expired and taken over, or gone)."""
        lease = self.read()
        if not lease or (lease.get("spec") or {}).get("holderIdentity") != self.holder:
            return False
        try:
            return self.api.delete(*LEASE, self.name, self.namespace,
                                   resource_version=lease["metadata"]["resourceVersion"])
        except ConflictError:
            return False

    def check(self) -> None:
        """Refuse to go on unless this run still holds the lock (it may have expired and been taken over)."""
        lease = self.read()
        if not self.held_by_me(lease):
            state = self.describe(lease) if lease else "not held by anyone"
            raise LockError(f"this run ({self.holder}) no longer holds the run lock ({self.where} is {state}); "
                            "nothing was written by this step. Run again.")
