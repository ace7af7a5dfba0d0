"""The argocd_wait action: it runs the module in slices and prints, between slices, what the wave still waits for;
a failure or a finished wait ends it; an async task or no_log gets one silent run. The module's answers are
scripted here; the module and this action against real Applications: tests/integration/test_bootstrap.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible_collections.aphex.platform.plugins.action import argocd_wait
from ansible_collections.aphex.platform.plugins.action.argocd_wait import ActionModule, progress_line


def slice_answer(wave, seconds, pending, completed=()):
    return {"changed": False, "waves": list(completed), "progress": {
        "wave": wave, "seconds": seconds, "timeout": 900, "pending": pending,
        "resume": {"completed": list(completed), "wave": wave, "wave_state": {"started": 1.0}}}}


class Scripted(ActionModule):
    """The action with the module's answers scripted, recording the arguments of each module run."""

    def __init__(self, answers, **task):
        loaded = Task.load({"action": "aphex.platform.argocd_wait", "args": {"wave": 1}, **task})
        connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/tmp"))
        super().__init__(loaded, connection, PlayContext(), DataLoader(), None, None)
        self.answers, self.runs = list(answers), []

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False, **_kwargs):
        self.runs.append((module_name, dict(module_args), wrap_async))
        return dict(self.answers.pop(0))


@pytest.fixture
def printed(monkeypatch):
    lines = []
    monkeypatch.setattr(argocd_wait.display, "display", lines.append)
    return lines


def test_progress_is_printed_between_slices_and_each_slice_resumes_the_last(printed):
    done = {"wave": 1, "applications": ["a"], "seconds": 61.0}
    action = Scripted([slice_answer(1, 30, ["a: sync OutOfSync"]), slice_answer(1, 60, ["a: health Progressing"]),
                       {"changed": False, "waves": [done]}])
    result = action.run(task_vars={"inventory_hostname": "cluster"})
    assert result["waves"] == [done] and "progress" not in result and not result.get("failed")
    assert printed == ["[cluster] wave 1: waited 30 s of 900 s; pending: a: sync OutOfSync",
                       "[cluster] wave 1: waited 60 s of 900 s; pending: a: health Progressing"]
    assert [args.get("resume") for _name, args, _async in action.runs] == [
        None, {"completed": [], "wave": 1, "wave_state": {"started": 1.0}},
        {"completed": [], "wave": 1, "wave_state": {"started": 1.0}}]
    assert {name for name, _args, _async in action.runs} == {"aphex.platform.argocd_wait"}


def test_a_failure_ends_the_wait_with_the_modules_message(printed):
    action = Scripted([slice_answer(1, 30, ["a"]), {"failed": True, "msg": "wave 1 failed: a: SyncError: x"}])
    result = action.run(task_vars={})
    assert result["failed"] is True and result["msg"] == "wave 1 failed: a: SyncError: x"
    assert printed == ["[localhost] wave 1: waited 30 s of 900 s; pending: a"]


def test_no_log_keeps_the_progress_lines_quiet(printed):
    action = Scripted([slice_answer(1, 30, ["a: ArgoCD's message"]), {"changed": False, "waves": []}], no_log=True)
    action.run(task_vars={})
    assert printed == [] and len(action.runs) == 2


def test_an_async_task_is_one_silent_run_polled_by_ansible(printed):
    action = Scripted([{"ansible_job_id": "j1", "started": 1}], async_val=600, poll=0)
    result = action.run(task_vars={})
    assert result["ansible_job_id"] == "j1" and printed == []
    [(_name, args, wrapped)] = action.runs
    assert args["progress_interval"] == 0 and wrapped is True


def test_a_progress_line_names_the_host_the_wave_and_what_is_pending():
    assert progress_line("h", {"wave": 5, "seconds": 12.5, "timeout": 300, "pending": ["a: x", "b: y"]}) == \
        "[h] wave 5: waited 12.5 s of 300 s; pending: a: x; b: y"
