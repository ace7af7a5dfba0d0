# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ArgoCD Applications: which wave each is in, whether it is done, and what is wrong when it is not."""

from __future__ import annotations

import time

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError

SYNC_WAVE = "argocd.argoproj.io/sync-wave"


class ConvergenceError(AphexError):
    """An application is Degraded, or a wave did not finish in time."""


def wave_of(app: dict) -> int:
    value = ((app.get("metadata") or {}).get("annotations") or {}).get(SYNC_WAVE, "0")
    try:
        return int(value)
    except ValueError:
        return 0


def state(app: dict) -> tuple:
    status = app.get("status") or {}
    return ((status.get("sync") or {}).get("status") or "Unknown",
            (status.get("health") or {}).get("status") or "Unknown")


def done(app: dict) -> bool:
    return state(app) == ("Synced", "Healthy")


def explain(app: dict) -> str:
    """Name, sync and health, conditions and the resources that are not healthy."""
    status = app.get("status") or {}
    sync, health = state(app)
    parts = [f"{app['metadata']['name']} (wave {wave_of(app)}): sync {sync}, health {health}"]
    message = (status.get("health") or {}).get("message")
    if message:
        parts.append(f"health message: {message}")
    for condition in status.get("conditions") or []:
        parts.append(f"condition {condition.get('type')}: {condition.get('message', '')}")
    operation = (status.get("operationState") or {})
    if operation.get("phase") in ("Failed", "Error"):
        parts.append(f"last sync {operation['phase']}: {operation.get('message', '')}")
    for resource in status.get("resources") or []:
        resource_health = (resource.get("health") or {}).get("status")
        if resource_health and resource_health != "Healthy":
            where = f"{resource.get('namespace')}/" if resource.get("namespace") else ""
            detail = (resource.get("health") or {}).get("message", "")
            parts.append(f"{resource.get('kind')} {where}{resource.get('name')} is {resource_health}"
                         f"{': ' + detail if detail else ''}")
    return "; ".join(parts)


def waves(apps: list) -> dict:
    grouped = {}
    for app in apps:
        grouped.setdefault(wave_of(app), []).append(app)
    return dict(sorted(grouped.items()))


# Conditions ArgoCD sets when it cannot render or sync an app (a chart version the repository lacks, values the
# chart rejects, a refused object). They can be transient (a repository briefly unreachable), so only one that
# persists for the grace period fails the wave.
ERROR_CONDITIONS = ("ComparisonError", "InvalidSpecError", "SyncError")


def errors_of(app: dict) -> list:
    """ArgoCD's error conditions on the app and a sync that failed for good, as messages."""
    status = app.get("status") or {}
    messages = [f"{c.get('type')}: {c.get('message', '')}" for c in status.get("conditions") or []
                if c.get("type") in ERROR_CONDITIONS]
    operation = status.get("operationState") or {}
    if operation.get("phase") in ("Failed", "Error") and not (app.get("operation") or {}):
        messages.append(f"sync {operation['phase']}: {operation.get('message', '')}")
    return messages


def stale(app: dict, revisions: dict) -> str:
    """Why the app's status does not yet describe the revision the bootstrap rendered for it ('' when it does):
    right after platform-root changes, a child still shows the state of its previous version."""
    expected = (revisions or {}).get(app["metadata"]["name"])
    if expected is None:
        return ""
    specified = ((app.get("spec") or {}).get("source") or {}).get("targetRevision")
    compared = ((((app.get("status") or {}).get("sync") or {}).get("comparedTo") or {}).get("source") or {}).get(
        "targetRevision")
    if specified != expected:
        return f"platform-root has not set revision {expected} yet (it is {specified})"
    if compared != expected:
        return f"ArgoCD has not compared revision {expected} yet"
    return ""


def _pending(apps_and_staleness: list, expected) -> list:
    reasons = [explain(app) + (f"; {why_stale}" if why_stale else "") for app, why_stale in apps_and_staleness
               if not done(app) or why_stale]
    names = {app["metadata"]["name"] for app, _why_stale in apps_and_staleness}
    return reasons + [f"{name}: not created yet by platform-root" for name in sorted(set(expected) - names)]


def pending_reasons(apps: list, expected=(), revisions=None) -> list:
    """Why a wave is not done: each app not Synced and Healthy, or showing another revision than the one rendered
    for it, and each expected app not created yet; empty when it is done."""
    return _pending([(app, stale(app, revisions)) for app in apps], expected)


def first_pending_wave(apps: list, expected_waves: list):
    """The first of the expected waves ({wave, applications, revisions}, in order) that is not done, or None when
    all are: a re-run waits from there on, and not at all when nothing is pending."""
    live = waves(apps)
    for entry in expected_waves:
        if pending_reasons(live.get(entry["wave"], []), entry.get("applications", ()), entry.get("revisions")):
            return entry["wave"]
    return None


def wait_for_wave(read, wave: int, timeout: float, interval: float, clock=time.monotonic, sleep=time.sleep,
                  expected=(), error_grace: float = 60, revisions=None, slice_deadline=None, resume=None,
                  wall=time.time) -> dict:
    """Poll `read()` (one LIST) until every application of the wave is Synced and Healthy. `expected`: names the
    wave must have (the root Application may not have created them yet). Fails at once on a Degraded app, and
    on an ArgoCD error condition that lasts `error_grace` seconds, naming the app and ArgoCD's message.

    With `slice_deadline` (a `clock()` time), returns `done: false` once it passes, with what is pending and the
    state the next slice continues from (`resume`: when the wait and each app's error began, in wall-clock
    time, so the time between slices counts too), so the caller can print progress between slices; the timeout
    and the error grace count across slices."""
    resume = resume or {}
    to_wall = wall() - clock()
    started = resume["started"] - to_wall if "started" in resume else clock()
    erring_since = {name: since - to_wall for name, since in resume.get("erring_since", {}).items()}
    while True:
        apps = waves(read()).get(wave, [])
        names = {app["metadata"]["name"] for app in apps}
        degraded = [app for app in apps if state(app)[1] == "Degraded"]
        if degraded:
            raise ConvergenceError("; ".join(f"Degraded: {explain(app)}" for app in degraded))
        now = clock()
        # Each app's errors and staleness once per poll: both walk its status.
        looked = [(app, errors_of(app), stale(app, revisions)) for app in apps]
        erring = {app["metadata"]["name"]: errors for app, errors, why_stale in looked
                  if errors and not why_stale.startswith("platform-root")}
        erring_since = {name: erring_since.get(name, now) for name in erring}
        failed = [name for name, since in erring_since.items() if now - since >= error_grace]
        if failed:
            raise ConvergenceError(f"wave {wave} failed: " + "; ".join(
                f"{name}: " + "; ".join(erring[name]) for name in sorted(failed)))
        reasons = _pending([(app, why_stale) for app, _errors, why_stale in looked], expected)
        if not reasons:
            return {"wave": wave, "done": True, "applications": sorted(names), "seconds": round(now - started, 1)}
        if now - started > timeout:
            raise ConvergenceError(f"wave {wave} did not converge in {timeout:g} s; pending: " + "; ".join(reasons))
        if slice_deadline is not None and now >= slice_deadline:
            return {"wave": wave, "done": False, "pending": reasons, "seconds": round(now - started, 1),
                    "resume": {"started": started + to_wall,
                               "erring_since": {name: since + to_wall for name, since in erring_since.items()}}}
        sleep(interval)
