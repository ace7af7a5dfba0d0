"""gpu_facts parsers on real captures (shared/fixtures/gpu) and on hosts without GPUs or tools."""
from ansible_collections.aphex.platform.plugins.module_utils.gpu import (
    nvswitch_devices, parse_ctk_version, parse_dpkg_query, parse_pci_devices, parse_query_csv, read_pci_devices,
    read_secure_boot, summarise)

from tests.unit.fixtures.gpu_captures import capture, h200_sources


def test_the_h200_host_is_fully_described():
    facts = summarise(h200_sources())
    assert facts["present"] is True and facts["count"] == 1
    assert facts["gpus"] == [{"index": 0, "name": "NVIDIA H200", "uuid": "GPU-7e384753-4714-3dbd-b9cc-62e3927da275",
                              "pci_bus_id": "0000:00:06.0", "memory_total_mib": 143771, "compute_capability": "9.0",
                              "mig_mode": "Disabled"}]
    assert facts["nvidia_smi_works"] is True
    assert facts["models"] == ["NVIDIA H200"]
    assert facts["driver_version"] == "580.159.04" and facts["driver_branch"] == "580"
    assert facts["cuda_version"] == "13.0"
    assert facts["kernel_module_loaded"] is True and facts["kernel_modules"] == ["nvidia_uvm", "nvidia"]
    assert facts["kernel_module_flavor"] == "open"
    assert facts["mig_enabled"] is False
    # the driver works but no package owns it: a role must not install a second one
    assert facts["driver_source"] == "manual"
    assert facts["nvidia_ctk_path"] is None and facts["nvidia_ctk_version"] is None
    assert facts["pci_bus_readable"] is False and facts["nvswitch_count"] == 0


def test_a_query_in_another_column_layout_is_not_misread():
    # the capture with headers and units has 11 columns: rejected rather than assigned to the wrong fields
    assert parse_query_csv(capture("query-gpu.txt")) == []


def test_without_nvidia_smi_the_proc_information_still_counts_the_gpus():
    facts = summarise(h200_sources(query=None, smi_version=None, nvidia_smi_path=None))
    assert facts["count"] == 1 and facts["gpus"][0]["uuid"] == "GPU-7e384753-4714-3dbd-b9cc-62e3927da275"
    assert facts["gpus"][0]["pci_bus_id"] == "0000:00:06.0"
    assert facts["driver_version"] == "580.159.04" and facts["nvidia_smi_works"] is False


def sysfs(tmp_path, devices: dict) -> str:
    """A /sys/bus/pci/devices tree: slot -> (vendor, device, class) as the kernel writes them."""
    root = tmp_path / "devices"
    for slot, (vendor, device, device_class) in devices.items():
        (root / slot).mkdir(parents=True)
        for name, value in (("vendor", vendor), ("device", device), ("class", device_class)):
            (root / slot / name).write_text(value + "\n")
    return str(root)


# The H200 of the capture (smi-q: PCI device id 0x233510DE, bus 00:06.0) with no driver, beside a host bridge,
# a VGA card of the RTX 4090 family and its audio function, and an NVSwitch of an HGX board.
PCI_BUS = {"0000:00:00.0": ("0x8086", "0x1237", "0x060000"),
           "0000:00:06.0": ("0x10de", "0x2335", "0x030200"),
           "0000:00:07.0": ("0x10de", "0x2684", "0x030000"),
           "0000:00:07.1": ("0x10de", "0x22ba", "0x040300"),
           "0000:05:00.0": ("0x10de", "0x22a3", "0x068000")}


def test_a_host_without_gpus_or_tools_reports_absence(tmp_path):
    pci = read_pci_devices(sysfs(tmp_path, {"0000:00:00.0": ("0x8086", "0x1237", "0x060000")}))
    facts = summarise({"modules": "ext4 1 0 - Live 0x0\n", "pci": pci, "dpkg": ""})
    assert facts["present"] is False and facts["count"] == 0 and facts["gpus"] == []
    assert facts["driver_source"] == "none" and facts["driver_version"] is None
    assert facts["kernel_module_loaded"] is False and facts["pci_bus_readable"] is True


def test_a_gpu_without_a_driver_is_found_in_sysfs_without_lspci(tmp_path):
    pci = read_pci_devices(sysfs(tmp_path, PCI_BUS))
    facts = summarise({"pci": pci, "modules": "", "dpkg": ""})
    assert facts["present"] is True and facts["count"] == 2
    assert [(d["slot"], d["class"], d["device_id"]) for d in facts["pci_devices"]] == [
        ("0000:00:06.0", "0302", "2335"), ("0000:00:07.0", "0300", "2684")]
    assert facts["nvswitch_count"] == 1 and nvswitch_devices(pci) == ["0000:05:00.0"]
    assert facts["driver_source"] == "none" and facts["kernel_module_loaded"] is False
    # no name without the driver: a label built on names does not change when the driver arrives
    assert facts["models"] == []


def test_an_unreadable_pci_bus_is_reported_not_failed(tmp_path):
    assert read_pci_devices(str(tmp_path / "absent")) is None
    assert parse_pci_devices(None) == [] and summarise({"pci": None})["pci_bus_readable"] is False


def test_secure_boot_is_read_from_its_efi_variable(tmp_path):
    efivars = tmp_path / "efivars"
    efivars.mkdir()
    assert read_secure_boot(str(efivars)) is False
    variable = efivars / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
    variable.write_bytes(b"\x06\x00\x00\x00\x01")
    assert read_secure_boot(str(efivars)) is True
    variable.write_bytes(b"\x06\x00\x00\x00\x00")
    assert read_secure_boot(str(efivars)) is False
    assert read_secure_boot(str(tmp_path / "no-uefi")) is None


def test_packaged_drivers_and_the_toolkit_are_recognised():
    dpkg = ("nvidia-driver-550 550.127.05-0ubuntu1 ii \nnvidia-dkms-550 550.127.05-0ubuntu1 ii \n"
            "nvidia-driver-535 535.1 un \n")
    assert parse_dpkg_query(dpkg) == [{"name": "nvidia-driver-550", "version": "550.127.05-0ubuntu1"},
                                      {"name": "nvidia-dkms-550", "version": "550.127.05-0ubuntu1"}]
    facts = summarise(h200_sources(dpkg=dpkg, nvidia_ctk_path="/usr/bin/nvidia-ctk",
                                   ctk_version="NVIDIA Container Toolkit CLI version 1.17.8\ncommit: abc\n"))
    assert facts["driver_source"] == "package" and facts["nvidia_ctk_version"] == "1.17.8"
    assert parse_ctk_version("sh: 1: nvidia-ctk: not found") is None


def test_mig_and_several_gpus_of_other_models():
    query = ("0, NVIDIA A100-SXM4-80GB, GPU-aaa, 550.54.15, 81920, 8.0, Enabled\n"
             "1, NVIDIA A100-SXM4-80GB, GPU-bbb, 550.54.15, 81920, 8.0, Disabled\n"
             "2, NVIDIA L4, GPU-ccc, 550.54.15, [N/A], 8.9, [N/A]\n")
    facts = summarise({"query": query, "modules": "nvidia 1 0 - Live 0x0\n"})
    assert facts["count"] == 3 and facts["mig_enabled"] is True
    assert facts["models"] == ["NVIDIA A100-SXM4-80GB", "NVIDIA L4"]
    assert facts["gpus"][2]["memory_total_mib"] is None and facts["gpus"][2]["mig_mode"] is None
    assert facts["driver_branch"] == "550"
    assert parse_pci_devices({}) == []
