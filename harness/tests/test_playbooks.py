"""Reading a playbook run's JSON recap: changed tasks and, from their diffs, the fields that changed."""
from __future__ import annotations

from harness.playbooks import PlaybookRun, differences


def test_differences_name_each_changed_path_with_both_values():
    before = {"spec": {"syncOptions": None, "retry": {"limit": 5}, "items": [1, 2]}}
    after = {"spec": {"syncOptions": [], "retry": {"limit": 5}, "items": [1, 3]}}
    assert differences(before, after) == [".spec.items[1]: 2 -> 3", ".spec.syncOptions: None -> []"]
    assert differences(before, before) == []


def test_a_runs_changed_fields_come_from_its_changed_tasks_diffs():
    result = {"changed": True, "diff": [{"before": {"data": {"a": "1"}}, "after": {"data": {"a": "2"}}}]}
    document = {"plays": [{"tasks": [{"task": {"name": "role : Apply"}, "hosts": {"h": result}},
                                     {"task": {"name": "Read"}, "hosts": {"h": {"changed": False}}}]}],
                "stats": {"h": {"changed": 1}}}
    run = PlaybookRun(0, "", document)
    assert run.changed == 1 and run.changed_tasks == ["h: role : Apply"]
    assert run.changed_fields == [".data.a: 1 -> 2"]


def test_a_runs_task_files_are_the_files_of_its_tasks_without_their_lines():
    document = {"plays": [{"tasks": [{"task": {"name": "A", "path": "/c/roles/x/tasks/main.yml:12"}, "hosts": {}},
                                     {"task": {"name": "B", "path": "/c/roles/x/tasks/main.yml:20"}, "hosts": {}},
                                     {"task": {"name": "C", "path": "/c/playbooks/p.yml:3"}, "hosts": {}}]}]}
    assert PlaybookRun(0, "", document).task_files == {"/c/roles/x/tasks/main.yml", "/c/playbooks/p.yml"}
