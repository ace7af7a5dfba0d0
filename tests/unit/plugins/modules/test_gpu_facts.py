"""aphex.platform.gpu_facts through its main() on this machine: with no NVIDIA tools it reports no GPU, and with
an nvidia-smi that replays the captures of an H200 server (tests/unit/fixtures/gpu) in extra_paths it describes
that server's GPU and driver."""
from __future__ import annotations

import shlex

from ansible_collections.aphex.platform.plugins.modules.gpu_facts import main

from tests.unit.fixtures.gpu_captures import capture
from tests.unit.fixtures.modules import run_main


def test_a_host_without_nvidia_tools_is_reported_not_failed(tmp_path):
    result = run_main(main, {"extra_paths": [str(tmp_path)]})
    facts = result["ansible_facts"]["aphex_gpu"]
    assert result["changed"] is False and "failed" not in result
    assert facts["count"] == 0 and facts["nvidia_smi_path"] is None


def test_the_replayed_h200_is_described(tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\ncase \"$1\" in\n"
                   f"  --version) printf %s {shlex.quote(capture('nvidia-smi-version.txt'))} ;;\n"
                   f"  --query-gpu=*) printf %s {shlex.quote(capture('query-gpu-nounits.txt'))} ;;\n"
                   "  *) exit 2 ;;\nesac\n")
    smi.chmod(0o755)
    facts = run_main(main, {"extra_paths": [str(tmp_path)]})["ansible_facts"]["aphex_gpu"]
    assert facts["nvidia_smi_path"] == str(smi)
    assert facts["count"] == 1 and facts["models"] == ["NVIDIA H200"]
    assert facts["driver_version"] == "580.159.04"
