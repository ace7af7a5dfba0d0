# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aphex.platform.argocd_wait: a module run is silent until it returns, and a wave may take up to its timeout
(900 s by default). This action runs the module in slices of progress_interval seconds and prints, between
slices, which applications of the wave are still pending and why. Documented in plugins/modules/argocd_wait.py."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


def progress_line(host: str, progress: dict) -> str:
    return (f"[{host}] wave {progress['wave']}: waited {progress['seconds']:g} s of {progress['timeout']} s; "
            f"pending: " + "; ".join(progress["pending"]))


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        arguments = dict(self._task.args)
        host = (task_vars or {}).get("inventory_hostname", "localhost")
        if self._task.async_val:
            # a task run with async is polled by Ansible, not by this plugin: one run, waiting silently
            outcome = self._execute_module(module_name="aphex.platform.argocd_wait",
                                           module_args={**arguments, "progress_interval": 0}, task_vars=task_vars,
                                           wrap_async=True)
            result.update(outcome)
            return result
        while True:
            outcome = self._execute_module(module_name="aphex.platform.argocd_wait", module_args=arguments,
                                           task_vars=task_vars)
            progress = outcome.pop("progress", None)
            if outcome.get("failed") or progress is None:
                result.update(outcome)
                return result
            if not self._task.no_log:  # the lines carry ArgoCD's messages, which no_log hides with the rest
                display.display(progress_line(host, progress))
            arguments = {**arguments, "resume": progress["resume"]}
