"""The nvidia_gpu role's driver decision across distributions, on the real H200 capture and on GPU-less hosts."""

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.filter.nvidia import nvidia_driver_plan, unsupported_distribution
from ansible_collections.aphex.platform.plugins.module_utils.naming import SUPPORTED_DISTRIBUTIONS
from ansible_collections.aphex.platform.plugins.module_utils.gpu import summarise

from tests.unit.fixtures.gpu_captures import h200_sources

from harness import REPO
ROLES = REPO / "roles"

NO_GPU = summarise({"pci": {}, "modules": "ext4 1 0 - Live 0x0\n"})
H200_PCI = {"0000:00:06.0": {"vendor": "0x10de", "device": "0x2335", "class": "0x030200"}}
# The capture's host: driver 580 under /usr/local/nvidia, working, no package owns it.
H200_MANUAL = summarise(h200_sources())


def with_packages(branch):
    facts = summarise(h200_sources(dpkg=f"nvidia-driver-{branch}-server {branch}.100-0ubuntu1 ii \n"))
    facts["driver_version"] = f"{branch}.100"
    facts["driver_branch"] = branch
    return facts


def gpu_without_driver(pci=None, **facts):
    return {**summarise({"pci": pci or H200_PCI}), **facts}


@pytest.mark.parametrize("distribution, version", [("Ubuntu", "22.04"), ("Ubuntu", "24.04"), ("Debian", "12"),
                                                   ("Rocky", "9")])
def test_host_without_gpu_gets_nothing_on_any_distribution(distribution, version):
    plan = nvidia_driver_plan(NO_GPU, distribution, version, "580")
    assert plan == {"action": "none", "packages": [], "fabric_manager": False,
                    "reason": "no NVIDIA GPU was found (nvidia-smi, /proc and the PCI bus); nothing is installed"}


@pytest.mark.parametrize("distribution, version", [("Ubuntu", "22.04"), ("Ubuntu", "24.04"), ("Debian", "12")])
def test_working_driver_no_package_owns_is_never_doubled(distribution, version):
    assert H200_MANUAL["driver_source"] == "manual"
    plan = nvidia_driver_plan(H200_MANUAL, distribution, version, "580")
    assert plan["action"] == "keep" and plan["packages"] == []
    assert "driver 580.159.04 works and no package owns it" in plan["reason"]


def test_manual_driver_of_another_branch_is_kept_with_a_note():
    plan = nvidia_driver_plan(H200_MANUAL, "Ubuntu", "24.04", "570")
    assert plan["action"] == "keep"
    assert plan["reason"].endswith("it is not branch 570, replace it by hand if needed")


def test_packaged_driver_of_the_requested_branch_is_kept():
    assert nvidia_driver_plan(with_packages("580"), "Ubuntu", "24.04", "580")["action"] == "keep"


def test_packaged_driver_of_another_branch_is_replaced_by_the_server_packages_with_dkms():
    plan = nvidia_driver_plan(with_packages("570"), "Ubuntu", "22.04", "580", kernel="5.15.0-125-generic")
    assert plan["action"] == "install"
    assert plan["packages"] == ["nvidia-driver-580-server", "nvidia-dkms-580-server", "linux-headers-5.15.0-125-generic",
                                "linux-headers-generic"]
    assert plan["reason"] == "driver 570.100 is installed but branch 580 is requested"


@pytest.mark.parametrize("open_modules, expected", [
    (False, ["nvidia-driver-580-server", "nvidia-dkms-580-server", "linux-headers-6.8.0-60-generic",
             "linux-headers-generic"]),
    (True, ["nvidia-driver-580-server-open", "nvidia-dkms-580-server-open", "linux-headers-6.8.0-60-generic",
            "linux-headers-generic"]),
])
def test_ubuntu_gpu_without_driver_gets_the_requested_branch(open_modules, expected):
    plan = nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "24.04", "580", open_modules=open_modules,
                              kernel="6.8.0-60-generic")
    assert plan["action"] == "install" and plan["packages"] == expected


def test_debian_gets_its_non_free_driver_and_keeps_any_packaged_branch():
    plan = nvidia_driver_plan(gpu_without_driver(), "Debian", "12", "580", kernel="6.1.0-40-amd64")
    # linux-headers-amd64 follows kernel upgrades, so DKMS rebuilds the module for each new kernel
    assert plan["packages"] == ["nvidia-driver", "nvidia-kernel-dkms", "firmware-misc-nonfree",
                                "linux-headers-6.1.0-40-amd64", "linux-headers-amd64"]
    arm = nvidia_driver_plan(gpu_without_driver(), "Debian", "12", "580", kernel="6.1.0-40-arm64", arch="arm64")
    assert arm["packages"][-1] == "linux-headers-arm64"
    assert nvidia_driver_plan(with_packages("535"), "Debian", "12", "580")["action"] == "keep"


def test_driver_installation_can_be_switched_off():
    plan = nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "24.04", "580", install=False)
    assert plan["action"] == "keep" and plan["packages"] == []
    assert "nvidia_gpu_driver_install: false" in plan["reason"]


def test_unsupported_distribution_with_a_gpu_is_refused_by_name():
    with pytest.raises(ValueError, match="^nvidia_gpu: Ubuntu 20.04 is not supported; aphex.platform supports "
                                         "Debian 12, Ubuntu 22.04/24.04$"):
        nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "20.04", "580")


@pytest.mark.parametrize("distribution, version, major, supported", [
    ("Debian", "12.11", "12", True), ("Debian", "13.1", "13", False), ("Ubuntu", "24.04", "24", True),
    ("Ubuntu", "24.10", "24", False), ("Rocky", "9.4", "9", False)])
def test_the_supported_distributions_are_asked_in_one_place(distribution, version, major, supported):
    assert (unsupported_distribution(distribution, version, major) == "") is supported


HOST_ROLES = ("host_prereqs", "k3s", "kind_cluster", "nvidia_gpu")  # platform and tenants run against an API


def test_the_roles_galaxy_platforms_list_the_supported_distributions():
    expected = {(name, codename) for name, versions in SUPPORTED_DISTRIBUTIONS.items() for codename in versions.values()}
    for meta in (ROLES / role / "meta" / "main.yml" for role in HOST_ROLES):
        platforms = yaml.safe_load(meta.read_text())["galaxy_info"]["platforms"]
        assert {(p["name"], version) for p in platforms for version in p["versions"]} == expected, meta


def test_secure_boot_on_ubuntu_uses_the_signed_prebuilt_modules_instead_of_dkms():
    plan = nvidia_driver_plan(gpu_without_driver(secure_boot=True), "Ubuntu", "24.04", "580", kernel="6.8.0-60-generic")
    assert plan["action"] == "install"
    assert plan["packages"] == ["nvidia-driver-580-server", "linux-modules-nvidia-580-server-6.8.0-60-generic",
                                "linux-modules-nvidia-580-server-generic"]
    assert not any("dkms" in package for package in plan["packages"])
    assert "Secure Boot is on, so Canonical's signed prebuilt modules are used" in plan["reason"]


def test_secure_boot_on_debian_is_refused_with_what_to_do():
    plan = nvidia_driver_plan(gpu_without_driver(secure_boot=True), "Debian", "12", "580", kernel="6.1.0-40-amd64")
    assert plan["action"] == "refuse" and plan["packages"] == []
    assert "Secure Boot is on" in plan["reason"] and "mokutil" in plan["reason"]
    # a working driver is kept whatever Secure Boot says
    assert nvidia_driver_plan({**H200_MANUAL, "secure_boot": True}, "Debian", "12", "580")["action"] == "keep"


def test_nvswitch_boards_get_the_fabric_manager():
    pci = {**H200_PCI, "0000:05:00.0": {"vendor": "0x10de", "device": "0x22a3", "class": "0x068000"}}
    plan = nvidia_driver_plan(gpu_without_driver(pci), "Ubuntu", "24.04", "580", kernel="6.8.0-60-generic")
    assert plan["fabric_manager"] is True and plan["packages"][-1] == "nvidia-fabricmanager-580"
    assert "1 NVSwitch(es) found: the fabric manager must run" in plan["reason"]
    kept = nvidia_driver_plan({**H200_MANUAL, "nvswitch_count": 4}, "Ubuntu", "24.04", "580")
    assert kept["action"] == "keep" and kept["fabric_manager"] is True


def test_gpus_that_run_only_with_the_open_modules_get_them():
    blackwell = {"0000:00:06.0": {"vendor": "0x10de", "device": "0x2901", "class": "0x030200"}}
    plan = nvidia_driver_plan(gpu_without_driver(blackwell), "Ubuntu", "24.04", "580", kernel="6.8.0-60-generic")
    assert plan["packages"][:2] == ["nvidia-driver-580-server-open", "nvidia-dkms-580-server-open"]
    assert "run only with the open kernel modules" in plan["reason"]
    hopper = nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "24.04", "580", kernel="6.8.0-60-generic")
    assert hopper["packages"][0] == "nvidia-driver-580-server"


def test_a_second_run_before_the_pending_reboot_waits_for_it_instead_of_installing_again():
    installed = summarise({"pci": H200_PCI, "modules": "", "dpkg": "nvidia-driver-580-server 580.95-0ubuntu1 ii \n"})
    assert installed["driver_source"] == "package" and installed["driver_version"] is None
    plan = nvidia_driver_plan(installed, "Ubuntu", "24.04", "580", kernel="6.8.0-60-generic")
    assert plan["action"] == "reboot" and plan["packages"] == []
    assert "nvidia-driver-580-server" in plan["reason"] and "has not rebooted" in plan["reason"]
