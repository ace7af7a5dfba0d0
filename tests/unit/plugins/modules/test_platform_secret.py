"""aphex.platform.platform_secret through its main(): every problem of the request is named before the cluster is
asked anything, and no value reaches the result. Generation, copies and no-rotation against the real API server:
tests/integration/test_bootstrap.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.platform_secret import main

from tests.unit.fixtures.modules import run_main


def test_each_problem_is_named_before_connecting_and_no_value_is_echoed(tmp_path):
    result = run_main(main, {"kubeconfig": str(tmp_path / "absent"), "secrets": [
        {"name": "dex-secrets", "namespace": "auth-system", "keys": {"client": {"generate": "uuid"}}},
        {"name": "argocd-secret", "namespace": "argocd", "keys": {
            "oidc": {"copy": {"namespace": "auth-system", "name": "dex-secrets", "key": "absent"}},
            "token": {"value": "s3cr3t-value-never-shown"}}}]})
    assert result["failed"] is True
    assert result["msg"] == (
        "invalid secrets: secret auth-system/dex-secrets key 'client': generate must be one of hex, base64, "
        "alphanumeric; secret argocd/argocd-secret key 'oidc': copy must name a key (namespace, name, key) of a "
        "secret listed before this one")
    assert "s3cr3t-value-never-shown" not in str(result)


def test_the_secrets_option_is_required():
    assert "missing required arguments: secrets" in run_main(main, {})["msg"]
