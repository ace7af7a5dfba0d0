"""harness/platform/live.py: the waves' overlaps as the live-platform tests read them from ArgoCD's timestamps."""
from harness.platform.live import resync_overlaps, wave_overlaps


def _app(name, wave, created, started, finished, healthy_at):
    return {"metadata": {"name": name, "creationTimestamp": created,
                         "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
            "status": {"operationState": {"startedAt": started, "finishedAt": finished},
                       "health": {"lastTransitionTime": healthy_at}}}


def _apps(*apps):
    root = {"metadata": {"name": "platform-root"}, "status": {}}
    return {"platform-root": root, **{app["metadata"]["name"]: app for app in apps}}


def test_a_child_begun_before_the_wave_before_it_was_healthy_overlaps():
    apps = _apps(_app("crds", 0, "T00:00:01", "T00:00:01", "T00:00:05", "T00:00:10"),
                 _app("rbac", 0, "T00:00:01", "T00:00:02", "T00:00:04", "T00:00:06"),
                 _app("tekton", 1, "T00:00:08", "T00:00:09", "T00:00:20", "T00:00:30"),
                 _app("triggers", 2, "T00:00:31", "T00:00:31", "T00:00:40", "T00:00:41"))
    assert wave_overlaps(apps) == [("tekton", 0, "T00:00:08", "T00:00:10")]


def test_in_order_waves_do_not_overlap():
    apps = _apps(_app("crds", 0, "T00:00:01", "T00:00:01", "T00:00:05", "T00:00:10"),
                 _app("tekton", 1, "T00:00:11", "T00:00:11", "T00:00:20", "T00:00:30"))
    assert wave_overlaps(apps) == []


def test_resyncs_count_only_the_children_synced_since_and_any_earlier_wave():
    since = "T00:01:00"
    apps = _apps(_app("crds", 0, "T00:00:01", "T00:00:01", "T00:00:05", "T00:00:10"),  # not synced again
                 _app("tekton", 1, "T00:00:08", "T00:01:00", "T00:01:20", "T00:01:30"),
                 _app("controller", 2, "T00:00:09", "T00:01:10", "T00:01:40", "T00:01:45"),
                 _app("triggers", 3, "T00:00:09", "T00:01:30", "T00:01:50", "T00:01:55"))
    assert resync_overlaps(apps, since) == [("controller", 1, "T00:01:10", "T00:01:20"),
                                            ("triggers", 2, "T00:01:30", "T00:01:40")]
    assert resync_overlaps(apps, "T00:02:00") == []
