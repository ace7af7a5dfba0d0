"""aphex.platform.organization through its main(): an invalid inventory is refused field by field before any
connection (the kubeconfig named here does not even exist), and a valid one that cannot reach its cluster says
which kubeconfig it looked for. The converge itself: tests/integration/test_tenancy.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.organization import main

from tests.unit.fixtures.modules import run_main

ADMIN = {"name": "acme", "display_name": "ACME", "admin_users": ["admin@acme.io"]}


def test_an_invalid_organization_is_refused_naming_each_field_before_connecting(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "organizations": [
        {**ADMIN, "name": "Acme Corp"}, {**ADMIN, "name": "bolt", "admin_users": ["not-an-email"]}]})
    assert result["failed"] is True
    assert result["problems"] == [
        "aphex_organizations[Acme Corp].name: 'Acme Corp' is not a DNS label (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit)",
        "aphex_organizations[bolt].admin_users[0]: 'not-an-email' is not a valid email address"]
    assert "no kubeconfig" not in result["msg"]


def test_validate_only_checks_without_a_cluster_and_echoes_the_lists_as_counts():
    result = run_main(main, {"organizations": [ADMIN], "validate_only": True})
    assert result["changed"] is False and result["problems"] == []
    assert result["invocation"]["module_args"]["organizations"] == "(1 entries, as in the inventory)"


def test_a_valid_inventory_names_the_kubeconfig_it_could_not_find(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "cluster.kubeconfig"), "organizations": [ADMIN]})
    assert result["failed"] is True
    assert result["msg"] == (f"cannot connect to the cluster: no kubeconfig cluster.kubeconfig in {tmp_path} "
                             "(option kubeconfig (or K8S_AUTH_KUBECONFIG))")
