"""aphex.platform.platform_teardown through its main(): the step is one of three, and a cluster that cannot be
reached is named before anything is taken down. The steps themselves: tests/unit/plugins/module_utils/platform/
test_teardown.py; with the real ArgoCD: tests/integration/test_platform_lifecycle.py."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.modules.platform_teardown import main

from tests.unit.fixtures.modules import run_main


def test_an_unknown_step_is_refused():
    result = run_main(main, {"step": "everything"})
    assert result["failed"] is True
    assert result["msg"] == "value of step must be one of: kubectl-tenants, apps, namespaces, got: everything"


@pytest.mark.parametrize("step", ["kubectl-tenants", "apps", "namespaces"])
def test_an_unreachable_cluster_is_named(tmp_path, step):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "step": step, "namespaces": ["argocd"]})
    assert result["failed"] is True
    assert result["msg"].startswith(f"cannot connect to the cluster: no kubeconfig absent in {tmp_path}")
