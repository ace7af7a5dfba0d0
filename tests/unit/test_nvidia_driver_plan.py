"""The nvidia_gpu role's driver decision across distributions, on the real H200 capture and on GPU-less hosts."""
import pytest

from ansible_collections.aphex.platform.plugins.filter.nvidia import nvidia_driver_plan
from ansible_collections.aphex.platform.plugins.module_utils.gpu import summarise

from .test_gpu_facts import h200_sources

NO_GPU = summarise({"lspci": "", "modules": "ext4 1 0 - Live 0x0\n"})
# The capture's host: driver 580 under /usr/local/nvidia, working, no package owns it.
H200_MANUAL = summarise(h200_sources())


def with_packages(branch):
    facts = summarise(h200_sources(dpkg=f"nvidia-driver-{branch}-server {branch}.100-0ubuntu1 ii \n"))
    facts["driver_version"] = f"{branch}.100"
    facts["driver_branch"] = branch
    return facts


def gpu_without_driver():
    return summarise({"lspci": "17:00.0 3D controller [0302]: NVIDIA Corporation GH100 [H200 SXM 141GB] [10de:2335] (rev a1)\n"})


@pytest.mark.parametrize("distribution, version", [("Ubuntu", "22.04"), ("Ubuntu", "24.04"), ("Debian", "12"),
                                                   ("Rocky", "9")])
def test_host_without_gpu_gets_nothing_on_any_distribution(distribution, version):
    plan = nvidia_driver_plan(NO_GPU, distribution, version, "580")
    assert plan == {"action": "none", "packages": [],
                    "reason": "no NVIDIA GPU was found (nvidia-smi, /proc and lspci); nothing is installed"}


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
    assert plan["packages"] == ["nvidia-driver-580-server", "nvidia-dkms-580-server", "linux-headers-5.15.0-125-generic"]
    assert plan["reason"] == "driver 570.100 is installed but branch 580 is requested"


@pytest.mark.parametrize("open_modules, expected", [
    (False, ["nvidia-driver-580-server", "nvidia-dkms-580-server", "linux-headers-6.8.0-60-generic"]),
    (True, ["nvidia-driver-580-server-open", "nvidia-dkms-580-server-open", "linux-headers-6.8.0-60-generic"]),
])
def test_ubuntu_gpu_without_driver_gets_the_requested_branch(open_modules, expected):
    plan = nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "24.04", "580", open_modules=open_modules,
                              kernel="6.8.0-60-generic")
    assert plan["action"] == "install" and plan["packages"] == expected


def test_debian_gets_its_non_free_driver_and_keeps_any_packaged_branch():
    plan = nvidia_driver_plan(gpu_without_driver(), "Debian", "12", "580", kernel="6.1.0-40-amd64")
    assert plan["packages"] == ["nvidia-driver", "nvidia-kernel-dkms", "firmware-misc-nonfree",
                                "linux-headers-6.1.0-40-amd64"]
    assert nvidia_driver_plan(with_packages("535"), "Debian", "12", "580")["action"] == "keep"


def test_driver_installation_can_be_switched_off():
    plan = nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "24.04", "580", install=False)
    assert plan["action"] == "keep" and plan["packages"] == []
    assert "nvidia_gpu_driver_install: false" in plan["reason"]


def test_unsupported_distribution_with_a_gpu_is_refused_by_name():
    with pytest.raises(ValueError, match="supports Ubuntu 22.04, Ubuntu 24.04 and Debian 12, not Ubuntu 20.04"):
        nvidia_driver_plan(gpu_without_driver(), "Ubuntu", "20.04", "580")
