"""aphex.platform.platform_backup through its main(): a restore refused before the cluster is asked shows no value,
and a restore needs its document. Export and restore against the real API server:
tests/integration/test_backup_restore.py."""
from __future__ import annotations

import base64

from ansible_collections.aphex.platform.plugins.modules.platform_backup import main

from tests.unit.fixtures.modules import run_main


def test_a_refused_restore_names_its_problems_and_echoes_no_value(tmp_path):
    value = "webhook-secret-never-shown-42"
    document = {"format": "aphex.platform/backup-v1", "cluster": "prod", "namespaces": [{"name": "org-acme"}],
                "secrets": [{"namespace": "org-acme", "name": "github-webhook-secret", "type": "Opaque",
                             "data": {"secret": base64.b64encode(value.encode()).decode(), "bad key": "x"}}]}
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "cluster": "prod", "state": "restored",
                             "backup": document})
    assert result["failed"] is True
    assert result["msg"] == ("the backup cannot be restored: secrets[0] (org-acme/github-webhook-secret).data: "
                             "'bad key' is not a Secret key; secrets[0] (org-acme/github-webhook-secret).data['bad key']: "
                             "not base64; nothing was restored")
    assert value not in str(result) and document["secrets"][0]["data"]["secret"] not in str(result)
    # the module's own arguments are shown with every value replaced, every name readable
    assert result["invocation"]["module_args"]["backup"]["secrets"][0] == {
        "namespace": "org-acme", "name": "github-webhook-secret", "type": "Opaque",
        "data": {"secret": "<redacted>", "bad key": "<redacted>"}}


def test_a_restore_needs_the_document():
    assert run_main(main, {"cluster": "prod", "state": "restored"})["msg"] == \
        "state is restored but all of the following are missing: backup"
