"""aphex.platform.run_lock through its main(): the state is one of two, and a cluster that cannot be reached is
named. Taking, waiting for and giving back the lock: tests/unit/plugins/module_utils/kube/test_run_lock.py (its
decisions) and tests/integration/test_tenancy_safety.py (two real runs at once)."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.run_lock import main

from tests.unit.fixtures.modules import run_main


def test_the_state_is_acquired_or_released():
    result = run_main(main, {"holder": "me", "state": "taken"})
    assert result["failed"] is True
    assert "value of state must be one of: acquired, released, got: taken" in result["msg"]


def test_a_holder_is_required():
    result = run_main(main, {})
    assert result["failed"] is True and "missing required arguments: holder" in result["msg"]


def test_an_unreachable_cluster_is_named_with_the_kubeconfig(tmp_path):
    result = run_main(main, {"holder": "me", "kubeconfig": str(tmp_path / "k")})
    assert result["failed"] is True
    assert result["msg"].startswith(f"cannot connect to the cluster: no kubeconfig k in {tmp_path}")
