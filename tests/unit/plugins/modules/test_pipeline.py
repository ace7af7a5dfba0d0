"""aphex.platform.pipeline through its main(): each pipeline problem is named with its field before any
connection, and a pipeline whose organization is neither listed nor removed is named too. The converge:
tests/integration/test_tenancy.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.pipeline import main

from tests.fixtures.invalid_tenants import org, pipe
from tests.unit.fixtures.modules import run_main


def test_each_pipeline_problem_is_named_before_connecting(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "organizations": [org()],
                             "pipelines": [pipe(repo="no slash"), pipe(name="acme-api", quota={"pods": "many"})]})
    assert result["failed"] is True
    assert result["problems"] == [
        "aphex_pipelines[acme-web].repo: 'no slash' must be a GitHub repository as owner/name",
        "aphex_pipelines[acme-api].quota.pods: 'many' is not a Kubernetes quantity"]


def test_validate_only_passes_a_valid_pipeline_without_a_cluster():
    result = run_main(main, {"organizations": [org()], "pipelines": [pipe()], "validate_only": True})
    assert result["changed"] is False and result["problems"] == []
    assert result["invocation"]["module_args"]["pipelines"] == "(1 entries, as in the inventory)"
