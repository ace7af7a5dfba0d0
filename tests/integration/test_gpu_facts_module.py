"""gpu_facts run by Ansible on a real host: this machine, which has no GPU; its PCI bus is read from sysfs."""
import os

from harness.playbooks import run_playbook

from harness import REPO


def test_a_host_without_gpus_is_reported_not_failed():
    run = run_playbook(REPO / "tests/integration/playbooks/gpu_facts.yml")
    assert run.returncode == 0, run.output
    [shown] = run.task_results("Show them", "localhost")
    facts = shown["aphex_gpu"]
    assert facts["present"] is False and facts["count"] == 0 and facts["gpus"] == []
    assert facts["driver_source"] == "none" and facts["kernel_module_loaded"] is False
    assert facts["pci_bus_readable"] is os.path.isdir("/sys/bus/pci/devices")
    assert facts["pci_devices"] == [] and facts["nvswitch_count"] == 0
    assert run.changed == 0
