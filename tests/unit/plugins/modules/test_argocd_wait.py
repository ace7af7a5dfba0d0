"""aphex.platform.argocd_wait through its main(): its options and the cluster it cannot reach. The wait's
decisions: tests/unit/plugins/module_utils/platform/test_argocd.py; the module and its action plugin against real
Applications: tests/integration/test_bootstrap.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.argocd_wait import main

from tests.unit.fixtures.modules import run_main


def test_an_unreachable_cluster_is_named_with_the_kubeconfig(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "wait": False})
    assert result["failed"] is True
    assert result["msg"].startswith(f"cannot connect to the cluster: no kubeconfig absent in {tmp_path}")


def test_a_wave_is_a_number():
    result = run_main(main, {"wave": "first"})
    assert result["failed"] is True and "argument 'wave' is of type" in result["msg"]
