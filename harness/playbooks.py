"""Run ansible-playbook from tests the way a user does, and read its recap."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import REPO


def differences(before, after, path: str = "") -> list[str]:
    """The paths at which two values differ, with both values (shortened)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [change for key in sorted(set(before) | set(after), key=str)
                for change in differences(before.get(key), after.get(key), f"{path}.{key}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [change for index, (old, new) in enumerate(zip(before, after))
                for change in differences(old, new, f"{path}[{index}]")]
    return [] if before == after else [f"{path}: {str(before)[:200]} -> {str(after)[:200]}"]


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    document: dict

    @property
    def stats(self) -> dict:
        return self.document.get("stats", {})

    def _results(self):
        """(task name, host, result) of every task result, in play order."""
        for play in self.document.get("plays", []):
            for task in play["tasks"]:
                for host, result in task["hosts"].items():
                    yield task["task"]["name"], host, result

    @property
    def task_files(self) -> set[str]:
        """The file of every task that ran (the json callback's task path, without its line)."""
        return {task["task"]["path"].rsplit(":", 1)[0] for play in self.document.get("plays", [])
                for task in play["tasks"] if task["task"].get("path")}

    def task_results(self, task_name: str, host: str) -> list[dict]:
        """Every result of the named task for host, in play order; role tasks match without the role prefix."""
        return [result for name, on, result in self._results() if name.split(" : ")[-1] == task_name and on == host]

    def host_stats(self, host: str = "localhost") -> dict:
        return self.stats.get(host, {})

    @property
    def changed(self) -> int:
        return sum(host.get("changed", 0) for host in self.stats.values())

    @property
    def changed_tasks(self) -> list[str]:
        """host: task of every changed result, for assertion messages."""
        return [f"{host}: {name}" for name, host, result in self._results() if result.get("changed")]

    @property
    def changed_results(self) -> list[dict]:
        return [result for _name, _host, result in self._results() if result.get("changed")]

    @property
    def changed_fields(self) -> list[str]:
        """What each changed task's diff (--diff) changed, field by field: `path: before -> after`."""
        found = []
        for result in self.changed_results:
            for diff in result.get("diff") or []:
                if isinstance(diff, dict) and "before" in diff:
                    found += differences(diff["before"], diff["after"])
        return found

    @property
    def failed_results(self) -> list[tuple[str, dict]]:
        """(task name without the role prefix, result) of every failed result, in play order."""
        return [(name.split(" : ")[-1], result) for name, _host, result in self._results() if result.get("failed")]

    @property
    def failed(self) -> int:
        return sum(host.get("failures", 0) + host.get("unreachable", 0) for host in self.stats.values())


# A playbook that hangs fails its test instead of the whole suite's time budget.
PLAYBOOK_TIMEOUT = 900


def run_playbook(playbook: Path, *args: str, kubeconfig: Path | None = None, extra_env=None,
                 timeout: float = PLAYBOOK_TIMEOUT) -> PlaybookRun:
    """Run a playbook with the json callback so the recap can be asserted on exactly."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
    })
    if kubeconfig is not None:
        env["K8S_AUTH_KUBECONFIG"] = str(kubeconfig)
    env.update(extra_env or {})
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run([str(ansible_playbook), str(playbook), *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=timeout)
    # The json callback prints one document at the end; warnings may come before it.
    document = re.search(r"^\{$.*", result.stdout, re.M | re.S)
    return PlaybookRun(result.returncode, result.stdout, json.loads(document.group(0)) if document else {})
