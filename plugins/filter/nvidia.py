# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nvidia_gpu role's decision about the driver, kept out of YAML so every case is unit-tested."""

from __future__ import annotations

SUPPORTED = {("Ubuntu", "22.04"), ("Ubuntu", "24.04"), ("Debian", "12")}


def _driver_packages(distribution: str, branch: str, open_modules: bool, kernel: str) -> list:
    if distribution == "Ubuntu":
        suffix = f"{branch}-server" + ("-open" if open_modules else "")
        # The DKMS package builds the module for every installed kernel, including later upgrades.
        return [f"nvidia-driver-{suffix}", f"nvidia-dkms-{suffix}", f"linux-headers-{kernel}"]
    # Debian ships one driver branch per release, from non-free.
    dkms = "nvidia-open-kernel-dkms" if open_modules else "nvidia-kernel-dkms"
    return ["nvidia-driver", dkms, "firmware-misc-nonfree", f"linux-headers-{kernel}"]


def nvidia_driver_plan(gpu: dict, distribution: str, version: str, branch: str, open_modules: bool = False,
                       kernel: str = "generic", install: bool = True) -> dict:
    """What to do about the driver: action keep, install or none, the packages and a sentence saying why."""
    def plan(action, reason, packages=()):
        return {"action": action, "reason": reason, "packages": list(packages)}

    if not gpu.get("present"):
        return plan("none", "no NVIDIA GPU was found (nvidia-smi, /proc and lspci); nothing is installed")
    if (distribution, str(version)) not in SUPPORTED:
        raise ValueError(f"nvidia_gpu supports Ubuntu 22.04, Ubuntu 24.04 and Debian 12, not {distribution} {version}")
    current, source = gpu.get("driver_version"), gpu.get("driver_source")
    if source == "manual":
        note = "" if gpu.get("driver_branch") == str(branch) else \
            f"; it is not branch {branch}, replace it by hand if needed"
        return plan("keep", f"driver {current} works and no package owns it (installed by hand or by an image);"
                            f" no second driver is installed{note}")
    if source == "package" and (distribution == "Debian" or gpu.get("driver_branch") == str(branch)):
        return plan("keep", f"driver {current} from {distribution}'s packages is installed")
    if not install:
        return plan("keep", f"driver installation is off (nvidia_gpu_driver_install: false); driver: {current or 'none'}")
    packages = _driver_packages(distribution, str(branch), open_modules, kernel)
    if source == "package":
        return plan("install", f"driver {current} is installed but branch {branch} is requested", packages)
    return plan("install", f"no working driver; installing branch {branch} from {distribution}'s packages", packages)


class FilterModule:
    def filters(self):
        return {"nvidia_driver_plan": nvidia_driver_plan}
