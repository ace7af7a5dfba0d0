# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nvidia_gpu role's decision about the driver, kept out of YAML so every case is unit-tested."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.naming import SUPPORTED_DISTRIBUTIONS

# Blackwell and later (PCI device ids 0x29xx and up) run only with NVIDIA's open kernel modules.
OPEN_MODULES_REQUIRED_FROM = 0x2900


def unsupported_distribution(distribution: str, version, major_version=None) -> str:
    """Why the host's distribution is not supported (the facts' distribution, distribution_version and, where the
    minor version does not matter, distribution_major_version), or "" when it is."""
    versions = SUPPORTED_DISTRIBUTIONS.get(distribution, {})
    if str(version) in versions or (major_version is not None and str(major_version) in versions):
        return ""
    listed = ", ".join(f"{name} {'/'.join(known)}" for name, known in SUPPORTED_DISTRIBUTIONS.items())
    return f"{distribution} {version} is not supported; aphex.platform supports {listed}"


def _kernel_flavour(kernel: str) -> str:
    # 6.8.0-60-generic -> generic, 6.1.0-40-amd64 -> amd64, 6.8.0-1020-aws -> aws
    parts = kernel.split("-")
    return "-".join(parts[2:]) if len(parts) > 2 else "generic"


def _needs_open_modules(gpu: dict) -> bool:
    for device in gpu.get("pci_devices") or []:
        try:
            if int(device.get("device_id") or "0", 16) >= OPEN_MODULES_REQUIRED_FROM:
                return True
        except ValueError:
            continue
    return False


def _driver_packages(distribution: str, branch: str, open_modules: bool, kernel: str, arch: str,
                     secure_boot: bool) -> list:
    if distribution == "Ubuntu":
        suffix = f"{branch}-server" + ("-open" if open_modules else "")
        if secure_boot:
            # Canonical's prebuilt modules are signed with a key the shim trusts; a DKMS build would be unsigned and
            # refused by the kernel. The flavour meta-package follows kernel upgrades.
            return [f"nvidia-driver-{suffix}", f"linux-modules-nvidia-{suffix}-{kernel}",
                    f"linux-modules-nvidia-{suffix}-{_kernel_flavour(kernel)}"]
        # DKMS rebuilds the module for every kernel whose headers are installed: the running one's now, and the
        # flavour meta-package brings the headers of each kernel upgrade.
        return [f"nvidia-driver-{suffix}", f"nvidia-dkms-{suffix}", f"linux-headers-{kernel}",
                f"linux-headers-{_kernel_flavour(kernel)}"]
    # Debian ships one driver branch per release, from non-free; linux-headers-<arch> follows kernel upgrades so
    # DKMS rebuilds the module for each.
    dkms = "nvidia-open-kernel-dkms" if open_modules else "nvidia-kernel-dkms"
    return ["nvidia-driver", dkms, "firmware-misc-nonfree", f"linux-headers-{kernel}", f"linux-headers-{arch}"]


def nvidia_driver_plan(gpu: dict, distribution: str, version: str, branch: str, open_modules: bool = False,
                       kernel: str = "generic", install: bool = True, arch: str = "amd64") -> dict:
    """What to do about the driver, and a sentence saying why.

    action: keep, install, reboot (packages installed, module not loaded yet), refuse (installing cannot work on
    this host) or none (no GPU). packages: what to install. fabric_manager: whether the NVSwitch fabric manager
    must run (HGX/DGX boards: nvidia-smi lists the GPUs while CUDA fails without it)."""
    fabric_manager = bool(gpu.get("nvswitch_count"))

    def plan(action, reason, packages=()):
        if fabric_manager:
            reason += (f"; {gpu['nvswitch_count']} NVSwitch(es) found: the fabric manager must run"
                       " (without it nvidia-smi lists the GPUs and CUDA fails)")
        return {"action": action, "reason": reason, "packages": list(packages), "fabric_manager": fabric_manager}

    if not gpu.get("present"):
        fabric_manager = False
        return plan("none", "no NVIDIA GPU was found (nvidia-smi, /proc and the PCI bus); nothing is installed")
    problem = unsupported_distribution(distribution, version)
    if problem:
        raise ValueError(f"nvidia_gpu: {problem}")
    current, source = gpu.get("driver_version"), gpu.get("driver_source")
    if source == "manual":
        note = "" if gpu.get("driver_branch") == str(branch) else \
            f"; it is not branch {branch}, replace it by hand if needed"
        return plan("keep", f"driver {current} works and no package owns it (installed by hand or by an image);"
                            f" no second driver is installed{note}")
    packaged = gpu.get("driver_packages") or []
    if source == "package" and not gpu.get("kernel_module_loaded") and not current:
        # Installed by an earlier run whose reboot has not happened: installing again would change nothing.
        names = ", ".join(package["name"] for package in packaged)
        return plan("reboot", f"driver packages ({names}) are installed but the module is not loaded:"
                              " the host has not rebooted since they were installed")
    if source == "package" and (distribution == "Debian" or gpu.get("driver_branch") == str(branch)):
        return plan("keep", f"driver {current} from {distribution}'s packages is installed")
    if not install:
        return plan("keep", f"driver installation is off (nvidia_gpu_driver_install: false); driver: {current or 'none'}")
    reasons = []
    if _needs_open_modules(gpu) and not open_modules:
        open_modules = True
        reasons.append("these GPUs run only with the open kernel modules, so those are installed")
    secure_boot = bool(gpu.get("secure_boot"))
    if secure_boot and distribution == "Debian":
        return plan("refuse", "Secure Boot is on and Debian's driver is a DKMS module this run cannot sign: the kernel"
                              " would refuse it. Enroll a machine owner key for DKMS (mokutil) and install the driver"
                              " by hand, or turn Secure Boot off, or set nvidia_gpu_driver_install: false")
    if secure_boot:
        reasons.append("Secure Boot is on, so Canonical's signed prebuilt modules are used instead of DKMS")
    packages = _driver_packages(distribution, str(branch), open_modules, kernel, arch, secure_boot)
    if fabric_manager and distribution == "Ubuntu":
        packages.append(f"nvidia-fabricmanager-{branch}")
    why = "; ".join([""] + reasons)
    if source == "package":
        return plan("install", f"driver {current} is installed but branch {branch} is requested{why}", packages)
    return plan("install", f"no working driver; installing branch {branch} from {distribution}'s packages{why}",
                packages)


class FilterModule:
    def filters(self):
        return {"nvidia_driver_plan": nvidia_driver_plan, "unsupported_distribution": unsupported_distribution}
