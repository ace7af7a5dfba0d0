"""harness/platform/steps.py takes a step's command from a pod as Tekton's entrypoint wrapper would start it, and
refuses a container it cannot read that way (its end-to-end use: tests/integration/test_platform_tekton.py)."""
from __future__ import annotations

import pytest

from harness.platform.steps import StepError, step_command


def tekton_container(args: list) -> dict:
    """A step container as Tekton v1.6's controller writes it (the wrapper's flags before `--`)."""
    return {"name": "step-apply-application", "command": ["/tekton/bin/entrypoint"],
            "args": ["-wait_file", "/tekton/downward/ready", "-wait_file_content", "-post_file", "/tekton/run/0/out",
                     "-termination_path", "/tekton/termination", "-step_metadata_dir", "/tekton/run/0/status",
                     "-entrypoint", "/bin/sh", "--", *args]}


def test_the_command_is_the_wrappers_entrypoint_and_what_follows_its_separator():
    script = "set -eu\nkubectl apply -f - -- <<EOF\nEOF\n"
    assert step_command(tekton_container(["-c", script])) == ["/bin/sh", "-c", script]


@pytest.mark.parametrize("container", [
    {"name": "step-x", "command": ["/bin/sh"], "args": ["-c", "true"]},
    {"name": "step-x", "command": ["/tekton/bin/entrypoint"], "args": ["-post_file", "/x", "-c", "true"]},
    {"name": "step-x", "command": ["/tekton/bin/entrypoint"], "args": ["-post_file", "/x", "--", "-c", "true"]},
], ids=["not Tekton's wrapper", "no separator", "no -entrypoint"])
def test_a_container_not_shaped_by_tektons_wrapper_is_refused(container):
    with pytest.raises(StepError):
        step_command(container)
