#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: argocd_wait
short_description: Wait wave by wave until the platform's ArgoCD Applications are Synced and Healthy
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Groups the Applications selected by O(selector) by their C(argocd.argoproj.io/sync-wave) annotation and waits
    for the waves in order (or only O(wave)) until every Application in it is Synced and Healthy. Each poll is one
    list request.
  - Fails at once when an Application of the wave is Degraded, after O(error_grace) when ArgoCD keeps reporting an
    error for one, and after O(timeout) otherwise, naming each
    application that is not done with its sync and health status, its conditions, a failed sync and the resources
    that are not healthy.
  - Call it once per wave in a loop to print progress as each wave completes (see the example). While a wave is
    pending, its action plugin prints every O(progress_interval) seconds which applications are still not Synced
    and Healthy, and why.
options:
  namespace:
    description: Namespace of the Applications.
    type: str
    default: argocd
  selector:
    description: Label selector of the platform's child Applications.
    type: str
    default: app.kubernetes.io/part-of=aphex-platform
  wave:
    description: Only this wave; all waves in order when omitted.
    type: int
  wait:
    description: Wait; false only reports the waves and their state.
    type: bool
    default: true
  expected_waves:
    description:
      - With O(wait=false), the waves the apps stage rendered (C(waves) of M(aphex.platform.platform_apps), each with
        C(wave), C(applications) and C(revisions)). RV(first_pending) is then the first of them that is not done,
        by the same rule a wait uses - every app created, Synced and Healthy, at the revision rendered for it.
    type: list
    elements: dict
    default: []
  applications:
    description:
      - The applications O(wave) must have. One that does not exist yet counts as pending (the root Application
        creates the children when it syncs), so a wave is never done before all of its apps exist.
    type: list
    elements: str
    default: []
  revisions:
    description:
      - App name to the chart version (or Git revision) the apps stage rendered for it (C(waves[].revisions) of
        M(aphex.platform.platform_apps)). An app whose spec or last comparison is for another revision is pending;
        right after a change, ArgoCD still reports the state of the previous version.
    type: dict
    default: {}
  error_grace:
    description:
      - Seconds an ArgoCD error condition (C(ComparisonError), C(InvalidSpecError), C(SyncError)) or a failed sync
        may last before the wave fails, naming the app and ArgoCD's message - a chart version the repository
        lacks, values the chart rejects.
    type: int
    default: 60
  timeout:
    description: Seconds each wave may take.
    type: int
    default: 900
  interval:
    description: Seconds between polls.
    type: float
    default: 5
  progress_interval:
    description:
      - Seconds between progress lines while waiting (the pending applications of the wave with their sync and
        health status and why). The wait runs in slices of this length, one module run each; the timeout and the
        error grace count across slices. V(0) waits in one run, silently.
    type: float
    default: 30
  resume:
    description:
      - Where the previous slice stopped; set by the action plugin between slices, never by hand.
    type: dict
    default: {}
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  action:
    support: full
    description: The action plugin runs the module in slices and prints progress between them.
  check_mode:
    support: full
    description: Reports the current state without waiting.
  diff_mode:
    support: none
    description: Reads only.
"""

EXAMPLES = r"""
- name: Find the waves
  aphex.platform.argocd_wait:
    kubeconfig: "{{ aphex_kubeconfig }}"
    wait: false
  register: platform_waves

- name: Wait for each wave
  aphex.platform.argocd_wait:
    kubeconfig: "{{ aphex_kubeconfig }}"
    wave: "{{ item }}"
  loop: "{{ platform_waves.waves | map(attribute='wave') | list }}"
"""

RETURN = r"""
first_pending:
  description:
    - The first of O(expected_waves) that is not done; null when every one is (a re-run then has nothing to wait for).
  returned: when O(wait=false) and O(expected_waves) is given
  type: int
progress:
  description:
    - Only between slices, to the action plugin (never in a task's result) - the wave, seconds waited, the
      pending applications and why, and the state the next slice resumes from.
  returned: never
  type: dict
waves:
  description: Each wave with its applications; when waiting, how long it took; otherwise which are done and pending.
  returned: always
  type: list
  elements: dict
  sample: [{wave: 1, applications: [tekton-pipelines], seconds: 42.0}]
"""

import time

from ansible_collections.aphex.platform.plugins.module_utils.naming import APPLICATION
from ansible_collections.aphex.platform.plugins.module_utils.platform.argocd import (
    done, first_pending_wave, wait_for_wave, waves)
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {
    "namespace": {"type": "str", "default": "argocd"},
    "selector": {"type": "str", "default": "app.kubernetes.io/part-of=aphex-platform"},
    "wave": {"type": "int"},
    "wait": {"type": "bool", "default": True},
    "expected_waves": {"type": "list", "elements": "dict", "default": []},
    "applications": {"type": "list", "elements": "str", "default": []},
    "error_grace": {"type": "int", "default": 60},
    "revisions": {"type": "dict", "default": {}},
    "timeout": {"type": "int", "default": 900},
    "interval": {"type": "float", "default": 5},
    "progress_interval": {"type": "float", "default": 30},
    "resume": {"type": "dict", "default": {}},
}


def wait_for_waves(run):
    params = run.params

    def read():
        return run.api.list(*APPLICATION, label_selector=params["selector"], namespace=params["namespace"])

    apps = read()
    current = waves(apps)
    selected = [params["wave"]] if params["wave"] is not None else list(current)
    if not params["wait"] or run.check_mode:
        report = [{"wave": wave, "applications": sorted(a["metadata"]["name"] for a in current.get(wave, [])),
                   "done": sorted(a["metadata"]["name"] for a in current.get(wave, []) if done(a)),
                   "pending": sorted(a["metadata"]["name"] for a in current.get(wave, []) if not done(a))}
                  for wave in selected]
        result = {"changed": False, "waves": report}
        if params["expected_waves"]:
            result["first_pending"] = first_pending_wave(apps, params["expected_waves"])
        return result
    # A slice ends after progress_interval; the action plugin prints what is pending and runs the next one.
    resume = params["resume"]
    slice_deadline = time.monotonic() + params["progress_interval"] if params["progress_interval"] > 0 else None
    report = list(resume.get("completed", []))
    finished = {entry["wave"] for entry in report}
    # by number, not position: an app removed meanwhile may have taken an earlier wave out of the list
    for wave in [wave for wave in selected if wave not in finished]:
        outcome = wait_for_wave(read, wave, params["timeout"], params["interval"], expected=params["applications"],
                                error_grace=params["error_grace"], revisions=params["revisions"],
                                slice_deadline=slice_deadline,
                                resume=resume.get("wave_state") if resume.get("wave") == wave else None)
        if not outcome.pop("done"):
            return {"changed": False, "waves": report, "progress": {
                "wave": wave, "seconds": outcome["seconds"], "timeout": params["timeout"],
                "pending": outcome["pending"],
                "resume": {"completed": report, "wave": wave, "wave_state": outcome["resume"]}}}
        report.append(outcome)
    return {"changed": False, "waves": report}


def main():
    run_module(ARGUMENTS, wait_for_waves)


if __name__ == "__main__":
    main()
