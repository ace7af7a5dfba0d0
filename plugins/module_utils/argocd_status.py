# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ArgoCD Applications: which wave each is in, whether it is done, and what is wrong when it is not."""

from __future__ import annotations

import time

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
APPLICATION = ("argoproj.io/v1alpha1", "Application")


class ConvergenceError(Exception):
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


def wait_for_wave(read, wave: int, timeout: float, interval: float, clock=time.monotonic, sleep=time.sleep) -> dict:
    """Poll `read()` (one LIST) until every application of the wave is Synced and Healthy."""
    started = clock()
    while True:
        apps = waves(read()).get(wave, [])
        degraded = [app for app in apps if state(app)[1] == "Degraded"]
        if degraded:
            raise ConvergenceError("; ".join(f"Degraded: {explain(app)}" for app in degraded))
        pending = [app for app in apps if not done(app)]
        if not pending:
            return {"wave": wave, "applications": sorted(app["metadata"]["name"] for app in apps),
                    "seconds": round(clock() - started, 1)}
        if clock() - started > timeout:
            raise ConvergenceError(f"wave {wave} did not converge in {timeout:g} s; pending: "
                                   + "; ".join(explain(app) for app in pending))
        sleep(interval)
