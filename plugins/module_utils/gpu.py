# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Detect NVIDIA GPUs and the software around them from what a host shows.

Every source is optional: a host may lack nvidia-smi, the kernel module or
dpkg; GPUs without a driver are found in sysfs (no lspci needed). Parsers are
pure functions over command output, so they are tested on
captures of real hosts; nothing depends on one model, memory size or count.
"""

from __future__ import annotations

import csv
import io
import os
import re

NVIDIA_PCI_VENDOR = "10de"
PCI_DEVICES = "/sys/bus/pci/devices"
EFIVARS = "/sys/firmware/efi/efivars"
QUERY_FIELDS = ("index", "name", "uuid", "driver_version", "memory.total", "compute_cap", "mig.mode.current")
QUERY_COMMAND = ["nvidia-smi", f"--query-gpu={','.join(QUERY_FIELDS)}", "--format=csv,noheader,nounits"]
DRIVER_PACKAGES = ("nvidia-driver-*", "nvidia-dkms-*", "nvidia-kernel-open-*", "nvidia-open", "nvidia-driver",
                   "nvidia-kernel-dkms", "libnvidia-compute-*")


def _blank(value: str):
    value = (value or "").strip()
    return None if value in ("", "[N/A]", "N/A", "[Not Supported]") else value


def parse_query_csv(text: str) -> list:
    """`nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv,noheader,nounits`."""
    gpus = []
    for row in csv.reader(io.StringIO(text or "")):
        if len(row) != len(QUERY_FIELDS):
            continue
        values = dict(zip(QUERY_FIELDS, (_blank(v) for v in row)))
        memory = values["memory.total"]
        gpus.append({
            "index": int(values["index"]) if values["index"] and values["index"].isdigit() else len(gpus),
            "name": values["name"],
            "uuid": values["uuid"],
            "pci_bus_id": None,
            "memory_total_mib": int(float(memory)) if memory and re.fullmatch(r"[0-9.]+", memory) else None,
            "compute_capability": values["compute_cap"],
            "mig_mode": values["mig.mode.current"],
            "driver_version": values["driver_version"],
        })
    return gpus


def parse_smi_version(text: str) -> dict:
    """`nvidia-smi --version`: driver and CUDA (driver API) versions."""
    found = dict(re.findall(r"^\s*([A-Za-z -]+?)\s*:\s*(\S+)\s*$", text or "", re.M))
    return {"driver_version": found.get("DRIVER version"), "cuda_version": found.get("CUDA Version")}


def parse_proc_version(text: str) -> dict:
    """/proc/driver/nvidia/version: the loaded kernel module's version and flavour."""
    match = re.search(r"NVRM version:\s+(.*?)\s+(\d+\.\d+(?:\.\d+)?)\s", text or "")
    if not match:
        return {"driver_version": None, "kernel_module_flavor": None}
    flavor = "open" if "Open Kernel Module" in match.group(1) else "proprietary"
    return {"driver_version": match.group(2), "kernel_module_flavor": flavor}


def parse_modules(text: str) -> list:
    """/proc/modules (or lsmod): the loaded nvidia* modules."""
    names = []
    for line in (text or "").splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith("nvidia") and name not in names:
            names.append(name)
    return names


def parse_gpu_information(files: dict) -> list:
    """/proc/driver/nvidia/gpus/<bus>/information, one text per GPU."""
    gpus = []
    for bus, text in sorted(files.items()):
        fields = dict((key.strip(), value.strip()) for key, _colon, value in
                      (line.partition(":") for line in (text or "").splitlines()) if value)
        gpus.append({"index": len(gpus), "name": fields.get("Model"), "uuid": fields.get("GPU UUID"),
                     "pci_bus_id": fields.get("Bus Location", bus), "memory_total_mib": None,
                     "compute_capability": None, "mig_mode": None, "driver_version": fields.get("GPU Firmware")})
    return gpus


def read_text(path: str):
    """A file's text, or None when it cannot be read (absent, no permission, a sysfs entry that vanished)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def read_pci_devices(root: str = PCI_DEVICES):
    """vendor, device and class of every PCI device the kernel lists, by slot; None when sysfs cannot be read.

    The kernel lists devices without any driver bound and without lspci (pciutils) installed."""
    if not os.path.isdir(root):
        return None
    return {slot: {field: (read_text(os.path.join(root, slot, field)) or "").strip()
                   for field in ("vendor", "device", "class")}
            for slot in sorted(os.listdir(root))}


def _hex(value: str) -> str:
    value = (value or "").strip().lower()
    return value[2:] if value.startswith("0x") else value


def read_secure_boot(efivars: str = EFIVARS):
    """Whether UEFI Secure Boot is on; None on a host booted without UEFI (or without efivarfs mounted).

    The variable holds 4 bytes of attributes, then one byte: 1 when Secure Boot is enforcing."""
    try:
        names = [name for name in os.listdir(efivars) if name.startswith("SecureBoot-")]
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(efivars, name), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if len(data) >= 5:
            return data[4] == 1
    return False if os.path.isdir(efivars) else None


def _nvidia_devices(devices: dict, class_prefix: str) -> list:
    """(slot, class, device id) of the NVIDIA devices whose PCI class starts with class_prefix, by slot."""
    found = []
    for slot, fields in sorted((devices or {}).items()):
        device_class = _hex(fields.get("class"))
        if _hex(fields.get("vendor")) == NVIDIA_PCI_VENDOR and device_class.startswith(class_prefix):
            found.append((slot, device_class, _hex(fields.get("device"))))
    return found


def parse_pci_devices(devices: dict) -> list:
    """The NVIDIA display controllers (PCI class 03xx: VGA, 3D) among read_pci_devices()'s; bridges such as
    NVSwitch (class 0680) are listed apart by nvswitch_devices()."""
    return [{"slot": slot, "class": device_class[:4], "device_id": device_id}
            for slot, device_class, device_id in _nvidia_devices(devices, "03")]


def nvswitch_devices(devices: dict) -> list:
    """NVIDIA bridges (class 0680): the NVSwitches of HGX/DGX boards, which need the fabric manager."""
    return [slot for slot, _class, _device in _nvidia_devices(devices, "0680")]


def parse_ctk_version(text: str):
    match = re.search(r"NVIDIA Container Toolkit CLI version\s+(\S+)", text or "") or \
        re.search(r"version\s+v?(\d+\.\d+\.\d+)", text or "")
    return match.group(1) if match else None


def parse_dpkg_query(text: str) -> list:
    """`dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' <DRIVER_PACKAGES>`: installed ones."""
    packages = []
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2].startswith("ii"):
            packages.append({"name": parts[0], "version": parts[1]})
    return packages


def driver_branch(version):
    return version.split(".")[0] if version else None


def summarise(sources: dict) -> dict:
    """Combine whatever sources were available into one fact dictionary."""
    gpus = parse_query_csv(sources.get("query")) if sources.get("query") else []
    from_proc = parse_gpu_information(sources["gpu_information"]) if sources.get("gpu_information") else []
    if not gpus:
        gpus = from_proc
    bus_of = {gpu["uuid"]: gpu["pci_bus_id"] for gpu in from_proc}
    for gpu in gpus:
        gpu["pci_bus_id"] = gpu["pci_bus_id"] or bus_of.get(gpu["uuid"])
    smi = parse_smi_version(sources.get("smi_version"))
    proc = parse_proc_version(sources.get("proc_version"))
    modules = parse_modules(sources.get("modules"))
    pci = parse_pci_devices(sources.get("pci"))
    packages = parse_dpkg_query(sources.get("dpkg")) if sources.get("dpkg") is not None else []
    driver_version = smi["driver_version"] or proc["driver_version"] or next(
        (g["driver_version"] for g in gpus if g["driver_version"]), None)
    if packages:
        driver_source = "package"
    elif driver_version:
        driver_source = "manual"  # a working driver no package owns (e.g. under /usr/local/nvidia)
    else:
        driver_source = "none"
    return {
        "present": bool(gpus or pci),
        "count": len(gpus) or len(pci),
        "gpus": [{key: value for key, value in gpu.items() if key != "driver_version"} for gpu in gpus],
        # Names come from the driver only (nvidia-smi, /proc): one source, so a label built on them does not change
        # when the driver arrives.
        "models": sorted({gpu["name"] for gpu in gpus if gpu["name"]}),
        "pci_devices": pci,
        "nvswitch_count": len(nvswitch_devices(sources.get("pci"))),
        "driver_version": driver_version,
        "driver_branch": driver_branch(driver_version),
        "driver_source": driver_source,
        "driver_packages": packages,
        "cuda_version": smi["cuda_version"],
        "kernel_module_loaded": "nvidia" in modules,
        "kernel_modules": modules,
        "kernel_module_flavor": proc["kernel_module_flavor"],
        "mig_enabled": any((gpu["mig_mode"] or "").lower() == "enabled" for gpu in gpus),
        "nvidia_smi_path": sources.get("nvidia_smi_path"),
        "nvidia_smi_works": bool(sources.get("query")) and bool(gpus),
        "nvidia_ctk_path": sources.get("nvidia_ctk_path"),
        "nvidia_ctk_version": parse_ctk_version(sources.get("ctk_version")),
        "nvidia_container_runtime_path": sources.get("nvidia_container_runtime_path"),
        "pci_bus_readable": sources.get("pci") is not None,
        "secure_boot": sources.get("secure_boot"),
    }
