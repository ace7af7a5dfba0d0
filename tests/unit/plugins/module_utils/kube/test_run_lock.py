"""The run lock's decisions, on a Lease kept in memory with the API server's rules for it (a create of an existing
object and a write at an old resourceVersion are conflicts) and a clock the test drives. The real API server's side
- two ansible-playbook runs at once, an expired lock taken over - is tests/integration/test_tenancy_safety.py."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ConflictError
from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import LockError, RunLock


class Leases:
    """get/create/replace/delete of one namespace's Leases, each write checked against the resourceVersion read.
    `before_write` runs before each write: another run's write between this run's read and write."""

    def __init__(self):
        self.objects, self.version, self.before_write = {}, 0, None

    def _write(self):
        if self.before_write:
            hook, self.before_write = self.before_write, None
            hook()
        self.version += 1
        return str(self.version)

    def get(self, _api_version, _kind, name, _namespace):
        return copy.deepcopy(self.objects.get(name))

    def create(self, manifest):
        name = manifest["metadata"]["name"]
        version = self._write()
        if name in self.objects:
            raise ConflictError(f"Lease {name} already exists")
        self.objects[name] = {**manifest, "metadata": {**manifest["metadata"], "resourceVersion": version}}

    def replace(self, manifest):
        name = manifest["metadata"]["name"]
        version = self._write()
        if self.objects[name]["metadata"]["resourceVersion"] != manifest["metadata"]["resourceVersion"]:
            raise ConflictError(f"Lease {name} was modified")
        self.objects[name] = {**manifest, "metadata": {**manifest["metadata"], "resourceVersion": version}}

    def delete(self, _api_version, _kind, name, _namespace, resource_version=None):
        self._write()
        if resource_version and self.objects[name]["metadata"]["resourceVersion"] != resource_version:
            raise ConflictError(f"Lease {name} was modified")
        return self.objects.pop(name, None) is not None


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def leases():
    return Leases()


def lock(leases, holder, clock=None, lease_seconds=1800):
    clock = clock or Clock()
    return RunLock(leases, holder, lease_seconds, clock=clock, sleep=clock.sleep)


def test_a_free_lock_is_taken_held_checked_and_given_back(leases):
    mine = lock(leases, "run-a")
    assert mine.acquire(timeout=10) == {"waited": 0.0, "taken_over": None}
    spec = leases.objects["aphex-platform-run"]["spec"]
    assert spec["holderIdentity"] == "run-a" and spec["leaseDurationSeconds"] == 1800 and spec["leaseTransitions"] == 0
    mine.check()
    assert mine.release() is True and leases.objects == {}
    assert mine.release() is False  # nothing left to give back


def test_a_held_lock_is_waited_for_then_refused_naming_its_holder(leases):
    lock(leases, "run-a").acquire(timeout=10)
    clock = Clock()
    with pytest.raises(LockError) as refused:
        lock(leases, "run-b", clock).acquire(timeout=6)
    assert clock.now == 6.0  # polled every 2 s until the timeout
    message = str(refused.value)
    assert message.startswith("another run holds the run lock of this cluster (Lease kube-system/aphex-platform-run, "
                              "held by run-a since ")
    assert "waited 6 s" in message and leases.objects["aphex-platform-run"]["spec"]["holderIdentity"] == "run-a"


def test_a_lock_given_back_while_waiting_is_taken(leases):
    first = lock(leases, "run-a")
    first.acquire(timeout=10)
    clock = Clock()
    second = lock(leases, "run-b", clock)
    original_sleep = clock.sleep

    def sleep_then_release(seconds):
        original_sleep(seconds)
        first.release()
    second.sleep = sleep_then_release
    assert second.acquire(timeout=10) == {"waited": 2.0, "taken_over": None}


def test_an_expired_lock_is_taken_over_and_its_holder_named(leases):
    long_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    leases.objects["aphex-platform-run"] = {"metadata": {"name": "aphex-platform-run", "resourceVersion": "7"}, "spec": {
        "holderIdentity": "killed-run", "leaseDurationSeconds": 1800, "acquireTime": stamp(long_ago),
        "renewTime": stamp(long_ago), "leaseTransitions": 3}}
    assert lock(leases, "run-b").acquire(timeout=0) == {"waited": 0.0, "taken_over": "killed-run"}
    assert leases.objects["aphex-platform-run"]["spec"]["leaseTransitions"] == 4
    stale = lock(leases, "killed-run")
    with pytest.raises(LockError, match=r"this run \(killed-run\) no longer holds the run lock .* held by run-b"):
        stale.check()
    assert stale.release() is False  # never deletes another run's lock


def test_a_write_between_read_and_write_is_read_again_not_overwritten(leases):
    """Two runs racing for a free lock: the one whose create comes second sees a conflict, reads again and waits."""
    leases.before_write = lambda: lock(leases, "run-a").acquire(timeout=0)
    clock = Clock()
    with pytest.raises(LockError, match="held by run-a"):
        lock(leases, "run-b", clock).acquire(timeout=2)
    assert leases.objects["aphex-platform-run"]["spec"]["holderIdentity"] == "run-a"


def test_taking_a_lock_again_keeps_when_it_was_first_taken(leases):
    mine = lock(leases, "run-a")
    mine.acquire(timeout=0)
    acquired = leases.objects["aphex-platform-run"]["spec"]["acquireTime"]
    assert mine.acquire(timeout=0) == {"waited": 0.0, "taken_over": None}
    spec = leases.objects["aphex-platform-run"]["spec"]
    assert spec["acquireTime"] == acquired and spec["leaseTransitions"] == 0


def test_expiry_and_description_read_the_lease():
    checker = RunLock(None, "me")
    now = datetime.now(timezone.utc)
    fresh = {"spec": {"holderIdentity": "x", "renewTime": stamp(now), "leaseDurationSeconds": 60,
                      "acquireTime": "2026-12-06T01:00:00.000000Z"}}
    assert not checker.expired(fresh)
    assert checker.expired({"spec": {"holderIdentity": "x", "renewTime": stamp(now - timedelta(seconds=61)),
                                     "leaseDurationSeconds": 60}})
    assert checker.expired({"spec": {}})  # nobody holds it
    assert checker.describe(fresh).startswith("held by x since 2026-12-06T01:00:00.000000Z; it expires at ")
    assert not checker.held_by_me(fresh) and not checker.held_by_me(None)
