"""Reading ArgoCD's Applications and waiting for a wave, on a clock the test drives: a poll is one call of `read`,
and each sleep moves the clock on, so timeouts, the error grace and slices are exact."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.platform.argocd import (
    ConvergenceError, done, errors_of, explain, first_pending_wave, pending_reasons, stale, wait_for_wave, wave_of, waves)


def app(name, wave=0, sync="Synced", health="Healthy", conditions=(), operation=None, revision=None, compared=None):
    return {"metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
            "spec": {"source": {"targetRevision": revision}},
            "status": {"sync": {"status": sync, "comparedTo": {"source": {"targetRevision": compared}}},
                       "health": {"status": health}, "conditions": list(conditions),
                       **({"operationState": operation} if operation else {})}}


class Clock:
    """time.monotonic and time.sleep for the wait: sleeping moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*polls):
    """read() answering each poll in turn, the last one from then on."""
    answers = list(polls)

    def read():
        return answers.pop(0) if len(answers) > 1 else answers[0]
    return read


def test_waves_group_by_annotation_in_order_and_unreadable_waves_count_as_zero():
    grouped = waves([app("b", 5), app("a", 1), app("c", 1), {"metadata": {"name": "d", "annotations": {
        "argocd.argoproj.io/sync-wave": "soon"}}}])
    assert list(grouped) == [0, 1, 5]
    assert [a["metadata"]["name"] for a in grouped[1]] == ["a", "c"]
    assert wave_of({"metadata": {"name": "x"}}) == 0


def test_done_means_synced_and_healthy_only():
    assert done(app("a"))
    assert not done(app("a", sync="OutOfSync")) and not done(app("a", health="Progressing"))
    assert not done({"metadata": {"name": "a"}})  # no status yet


def test_explain_names_conditions_a_failed_sync_and_unhealthy_resources():
    broken = app("dex", 17, "OutOfSync", "Progressing", conditions=[{"type": "SyncError", "message": "boom"}],
                 operation={"phase": "Failed", "message": "one or more objects failed"})
    broken["status"]["resources"] = [{"kind": "Deployment", "namespace": "auth", "name": "dex",
                                      "health": {"status": "Progressing", "message": "0 of 1 ready"}},
                                     {"kind": "Service", "name": "ok", "health": {"status": "Healthy"}}]
    assert explain(broken) == ("dex (wave 17): sync OutOfSync, health Progressing; condition SyncError: boom; "
                               "last sync Failed: one or more objects failed; "
                               "Deployment auth/dex is Progressing: 0 of 1 ready")
    assert errors_of(broken) == ["SyncError: boom", "sync Failed: one or more objects failed"]


def test_a_revision_the_root_has_not_set_or_argocd_has_not_compared_is_stale():
    assert stale(app("x", revision="1.0", compared="1.0"), {"x": "2.0"}).startswith("platform-root has not set")
    assert stale(app("x", revision="2.0", compared="1.0"), {"x": "2.0"}) == "ArgoCD has not compared revision 2.0 yet"
    assert stale(app("x", revision="2.0", compared="2.0"), {"x": "2.0"}) == ""
    assert stale(app("x"), {}) == ""


def test_a_wave_is_done_once_every_app_and_every_expected_one_is_synced_and_healthy():
    clock = Clock()
    read = scripted([app("a", 1, health="Progressing")], [app("a", 1)], [app("a", 1), app("b", 1)])
    outcome = wait_for_wave(read, 1, timeout=60, interval=5, clock=clock, sleep=clock.sleep, expected=["a", "b"])
    assert outcome == {"wave": 1, "done": True, "applications": ["a", "b"], "seconds": 10.0}
    assert clock.sleeps == [5, 5]


def test_apps_of_other_waves_do_not_hold_a_wave_back():
    clock = Clock()
    outcome = wait_for_wave(scripted([app("a", 1), app("z", 2, health="Missing")]), 1, 60, 5, clock=clock,
                            sleep=clock.sleep)
    assert outcome["done"] and outcome["applications"] == ["a"] and clock.sleeps == []


def test_a_degraded_app_fails_the_wave_at_once_naming_it():
    clock = Clock()
    with pytest.raises(ConvergenceError, match=r"^Degraded: b \(wave 1\): sync Synced, health Degraded"):
        wait_for_wave(scripted([app("a", 1), app("b", 1, health="Degraded")]), 1, 60, 5, clock=clock,
                      sleep=clock.sleep)
    assert clock.sleeps == []


def test_an_error_condition_fails_only_after_the_grace_and_a_passing_one_does_not():
    clock = Clock()
    erring = app("a", 1, "OutOfSync", "Missing", conditions=[{"type": "ComparisonError", "message": "no 9.9"}])
    with pytest.raises(ConvergenceError, match="^wave 1 failed: a: ComparisonError: no 9.9$"):
        wait_for_wave(scripted([erring]), 1, timeout=600, interval=5, clock=clock, sleep=clock.sleep, error_grace=20)
    assert clock.now - 1000.0 == 20.0
    clock = Clock()
    outcome = wait_for_wave(scripted([erring], [erring], [app("a", 1)]), 1, 600, 5, clock=clock, sleep=clock.sleep,
                            error_grace=20)
    assert outcome["done"]


def test_a_wave_that_does_not_finish_times_out_naming_what_is_pending():
    clock = Clock()
    with pytest.raises(ConvergenceError) as failed:
        wait_for_wave(scripted([app("a", 3, health="Progressing")]), 3, timeout=30, interval=10, clock=clock,
                      sleep=clock.sleep, expected=["a", "late"])
    assert str(failed.value) == ("wave 3 did not converge in 30 s; pending: a (wave 3): sync Synced, health "
                                 "Progressing; late: not created yet by platform-root")


def test_slices_return_progress_and_the_next_slice_resumes_the_timeout_and_the_grace():
    clock = Clock()

    def wall():
        return clock.now + 4_999_000.0  # the wall clock runs with the monotonic one
    erring = app("a", 1, "OutOfSync", "Missing", conditions=[{"type": "SyncError", "message": "x"}])
    first = wait_for_wave(scripted([erring]), 1, timeout=100, interval=5, clock=clock, sleep=clock.sleep,
                          error_grace=30, slice_deadline=clock.now + 10, wall=wall)
    assert first["done"] is False and first["seconds"] == 10.0
    assert first["pending"][0].startswith("a (wave 1): sync OutOfSync")
    # the next slice runs in another process, 7 s of wall time later, its monotonic clock starting elsewhere
    clock2 = Clock()
    clock2.now = 50.0
    slice_started = wall() + 7

    def wall2():
        return slice_started + clock2.now - 50.0
    with pytest.raises(ConvergenceError, match="^wave 1 failed"):
        wait_for_wave(scripted([erring]), 1, timeout=100, interval=5, clock=clock2, sleep=clock2.sleep,
                      error_grace=30, slice_deadline=clock2.now + 100, resume=first["resume"], wall=wall2)
    # the error began 17 s earlier by the wall clock, so 13 s more reach the 30 s grace
    assert clock2.now - 50.0 == 15.0


def test_the_first_pending_wave_is_where_a_rerun_starts_waiting():
    expected = [{"wave": 0, "applications": ["ingress"]}, {"wave": 1, "applications": ["tekton"],
                                                           "revisions": {"tekton": "1.6.0"}},
                {"wave": 5, "applications": ["crds", "rbac"]}]
    converged = [app("ingress", 0), app("tekton", 1, revision="1.6.0", compared="1.6.0"), app("crds", 5),
                 app("rbac", 5)]
    assert first_pending_wave(converged, expected) is None
    assert first_pending_wave(converged[:3], expected) == 5  # rbac not created yet
    bumped = [dict(converged[0]), app("tekton", 1, revision="1.7.0", compared="1.6.0"), *converged[2:]]
    assert first_pending_wave(bumped, [expected[0], {**expected[1], "revisions": {"tekton": "1.7.0"}},
                                       expected[2]]) == 1  # ArgoCD has not compared the new revision yet
    assert first_pending_wave([app("ingress", 0, health="Progressing"), *converged[1:]], expected) == 0
    assert first_pending_wave(converged, []) is None


def test_pending_reasons_say_what_each_app_lacks():
    assert pending_reasons([app("a", 1, sync="OutOfSync")], expected=["a", "b"]) == [
        "a (wave 1): sync OutOfSync, health Healthy", "b: not created yet by platform-root"]
    assert pending_reasons([app("a", 1)], expected=["a"]) == []
