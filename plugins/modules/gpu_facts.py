#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_facts
short_description: Detect NVIDIA GPUs, their driver and the container toolkit on a host
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Returns the fact C(aphex_gpu) describing the NVIDIA GPUs of the host and the software around them.
  - Reads C(nvidia-smi) (CSV query and C(--version)), C(/proc/driver/nvidia/version),
    C(/proc/driver/nvidia/gpus/*/information), C(/proc/modules), C(/sys/bus/pci/devices) and C(dpkg-query), each only when
    present. A host without C(nvidia-smi), without a driver or without any GPU is reported, not failed.
  - C(driver_source) tells a packaged driver (C(package)) from a working driver no package owns (C(manual),
    for example under C(/usr/local/nvidia)), so that roles never install a second driver.
options:
  extra_paths:
    description: Further folders to look for the NVIDIA tools in, besides C(PATH).
    type: list
    elements: path
    default: [/usr/local/nvidia/bin, /usr/local/bin, /usr/bin]
attributes:
  check_mode:
    support: full
    description: Only reads; the same facts are returned in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
  facts:
    support: full
    description: Sets C(aphex_gpu).
  platform:
    support: full
    platforms: posix
    description: Linux hosts.
"""

EXAMPLES = r"""
- name: Detect GPUs
  aphex.platform.gpu_facts:

- name: Label GPU nodes
  ansible.builtin.debug:
    msg: "{{ aphex_gpu.count }} x {{ aphex_gpu.models | join(', ') }}, driver {{ aphex_gpu.driver_version }}"
  when: aphex_gpu.present
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: dict
  contains:
    aphex_gpu:
      description: What was found.
      type: dict
      returned: always
      contains:
        present:
          description: Whether any NVIDIA GPU was found, by the driver or on the PCI bus.
          type: bool
          returned: always
        count:
          description: Number of GPUs.
          type: int
          returned: always
        gpus:
          description: One entry per GPU seen by the driver - index, name, uuid, pci_bus_id, memory_total_mib, compute_capability, mig_mode.
          type: list
          elements: dict
          returned: always
        models:
          description: Distinct model names.
          type: list
          elements: str
          returned: always
        pci_devices:
          description: NVIDIA display or 3D controllers on the PCI bus, read from sysfs (slot, class, device_id).
          type: list
          elements: dict
          returned: always
        driver_version:
          description: Loaded driver version; null without a driver.
          type: str
          returned: always
        driver_branch:
          description: Major version of the driver, for example 580.
          type: str
          returned: always
        driver_source:
          description: C(package), C(manual) (working, but no package owns it) or C(none).
          type: str
          returned: always
        driver_packages:
          description: Installed driver packages with their versions.
          type: list
          elements: dict
          returned: always
        cuda_version:
          description: CUDA version the driver supports.
          type: str
          returned: always
        kernel_module_loaded:
          description: Whether the nvidia kernel module is loaded.
          type: bool
          returned: always
        kernel_modules:
          description: Loaded nvidia kernel modules.
          type: list
          elements: str
          returned: always
        kernel_module_flavor:
          description: C(open) or C(proprietary); null without a driver.
          type: str
          returned: always
        mig_enabled:
          description: Whether MIG mode is on for any GPU.
          type: bool
          returned: always
        nvidia_smi_path:
          description: Path of nvidia-smi; null when absent.
          type: str
          returned: always
        nvidia_smi_works:
          description: Whether nvidia-smi answered with GPUs.
          type: bool
          returned: always
        nvidia_ctk_path:
          description: Path of nvidia-ctk; null when absent.
          type: str
          returned: always
        nvidia_ctk_version:
          description: Version of the NVIDIA Container Toolkit CLI; null when absent.
          type: str
          returned: always
        nvidia_container_runtime_path:
          description: Path of nvidia-container-runtime; null when absent.
          type: str
          returned: always
        nvswitch_count:
          description: NVIDIA NVSwitch bridges on the PCI bus (HGX/DGX boards; they need the fabric manager).
          type: int
          returned: always
        secure_boot:
          description: Whether UEFI Secure Boot is on (unsigned kernel modules are refused); null without UEFI.
          type: bool
          returned: always
        pci_bus_readable:
          description: Whether C(/sys/bus/pci/devices) could be read (false in some containers).
          type: bool
          returned: always
"""

import glob
import os

from ansible_collections.aphex.platform.plugins.module_utils.gpu import (
    DRIVER_PACKAGES, QUERY_COMMAND, read_pci_devices, read_secure_boot, read_text, summarise)
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {"extra_paths": {"type": "list", "elements": "path",
                             "default": ["/usr/local/nvidia/bin", "/usr/local/bin", "/usr/bin"]}}


def gather(run):
    module = run.module

    def tool(name):
        return module.get_bin_path(name, opt_dirs=module.params["extra_paths"])

    def output(argv):
        rc, out, _err = module.run_command(argv, environ_update={"LC_ALL": "C"})
        return out if rc == 0 else None

    sources = {"nvidia_smi_path": tool("nvidia-smi"), "nvidia_ctk_path": tool("nvidia-ctk"),
               "nvidia_container_runtime_path": tool("nvidia-container-runtime")}
    if sources["nvidia_smi_path"]:
        sources["query"] = output([sources["nvidia_smi_path"], *QUERY_COMMAND[1:]])
        sources["smi_version"] = output([sources["nvidia_smi_path"], "--version"])
    if sources["nvidia_ctk_path"]:
        sources["ctk_version"] = output([sources["nvidia_ctk_path"], "--version"])
    sources["pci"] = read_pci_devices()
    sources["secure_boot"] = read_secure_boot()
    dpkg_query = tool("dpkg-query")
    if dpkg_query:
        # dpkg-query exits 1 when a pattern matches nothing; its output is still right.
        _rc, out, _err = module.run_command([dpkg_query, "-W", "-f=${Package} ${Version} ${db:Status-Abbrev}\\n",
                                             *DRIVER_PACKAGES], environ_update={"LC_ALL": "C"})
        sources["dpkg"] = out
    sources["proc_version"] = read_text("/proc/driver/nvidia/version")
    sources["modules"] = read_text("/proc/modules")
    information = {os.path.basename(os.path.dirname(path)): read_text(path)
                   for path in glob.glob("/proc/driver/nvidia/gpus/*/information")}
    sources["gpu_information"] = information or None
    return {"changed": False, "ansible_facts": {"aphex_gpu": summarise(sources)}}


def main():
    run_module(ARGUMENTS, gather, cluster=False)


if __name__ == "__main__":
    main()
