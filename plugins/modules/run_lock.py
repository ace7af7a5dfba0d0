#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Hold the cluster's run lock so that two runs never interleave their changes
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Takes (O(state=acquired)) or gives back (O(state=released)) the Lease C(kube-system/aphex-platform-run)
    (C(kube-system) exists on every cluster, before the platform's namespaces do).
    While one run holds it, another waits up to O(timeout) seconds and then fails, saying who holds the lock and
    since when.
  - Every write to the Lease is conditional on the resourceVersion it was read at, so two runs racing for a free
    lock cannot both take it. A lock whose run was killed expires O(lease_seconds) after it was taken and is then
    taken over, with a warning.
  - The tenancy modules given the same O(holder) as their C(lock_holder) refuse to write once the lock is no
    longer held by it.
  - Taking and giving back the lock are bookkeeping, not changes to the platform, so the task reports
    C(changed=false); they are the only writes of a run that otherwise changes nothing.
attributes:
  check_mode:
    support: full
    description: Reads the Lease only; warns when another run holds it. Nothing is written.
  diff_mode:
    support: none
    description: The lock is bookkeeping, not a change to show.
  platform:
    support: full
    description: Runs on the controller against the cluster API.
    platforms: posix
options:
  holder:
    description: Identity of this run (unique per run, for example the user, the host and a random id).
    type: str
    required: true
  state:
    description: Take or give back the lock.
    type: str
    choices: [acquired, released]
    default: acquired
  timeout:
    description: Seconds to wait for another run to give the lock back.
    type: int
    default: 300
  lease_seconds:
    description: Seconds after which a lock that was not given back (a killed run) may be taken over.
    type: int
    default: 1800
extends_documentation_fragment:
  - aphex.platform.cluster
"""

EXAMPLES = r"""
- name: Hold the run lock while the tenants converge
  block:
    - name: Take the run lock
      aphex.platform.run_lock:
        kubeconfig: "{{ aphex_kubeconfig }}"
        holder: "{{ lookup('ansible.builtin.env', 'USER') }}@{{ inventory_hostname }} {{ 999999999 | random }}"
      register: lock
    - name: Converge the organizations
      aphex.platform.organization:
        kubeconfig: "{{ aphex_kubeconfig }}"
        organizations: "{{ aphex_organizations }}"
        lock_holder: "{{ lock.holder }}"
  always:
    - name: Give the run lock back
      aphex.platform.run_lock:
        kubeconfig: "{{ aphex_kubeconfig }}"
        holder: "{{ lock.holder }}"
        state: released
"""

RETURN = r"""
holder:
  description: The identity the lock is held under.
  returned: always
  type: str
waited:
  description: Seconds spent waiting for another run to give the lock back.
  returned: when O(state=acquired)
  type: float
taken_over:
  description: The holder of an expired lock that this run took over.
  returned: when O(state=acquired) and an expired lock was taken over
  type: str
released:
  description: Whether the lock was held by O(holder) and given back.
  returned: when O(state=released)
  type: bool
"""

from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import RunLock
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {
    "holder": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["acquired", "released"], "default": "acquired"},
    "timeout": {"type": "int", "default": 300},
    "lease_seconds": {"type": "int", "default": 1800},
}


def hold_or_give_back(run):
    params = run.params
    lock = RunLock(run.api, params["holder"], params["lease_seconds"])
    result = run.result
    result.update({"changed": False, "holder": params["holder"]})
    if run.check_mode:
        lease = lock.read()
        if lease and not lock.expired(lease) and not lock.held_by_me(lease):
            run.warn(f"another run holds the run lock ({lock.where}, {lock.describe(lease)}); this check "
                     "run previews the cluster as it is now")
    elif params["state"] == "acquired":
        result.update(lock.acquire(params["timeout"]))
        if result["taken_over"]:
            run.warn(f"took over the expired run lock of {result['taken_over']} (a run that did not finish); "
                     "check that its changes are complete")
    else:
        result["released"] = lock.release()
        if not result["released"]:
            run.warn(f"the run lock was no longer held by {params['holder']} when it was to be given back")
    return result


def main():
    run_module(ARGUMENTS, hold_or_give_back)


if __name__ == "__main__":
    main()
