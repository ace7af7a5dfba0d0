"""aphex.platform.manifests through its main(): one of src and definitions, and a src that cannot be read named
before any connection. The apply itself: tests/integration/test_bootstrap.py (ArgoCD's install manifest)."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.modules.manifests import main

from tests.unit.fixtures.modules import run_main


def test_src_and_definitions_are_one_or_the_other():
    assert "one of the following is required: src, definitions" in run_main(main, {"component": "x"})["msg"]
    both = run_main(main, {"component": "x", "src": "/a", "definitions": [{}]})
    assert "parameters are mutually exclusive: src|definitions" in both["msg"]


def test_a_src_that_cannot_be_read_is_named_before_connecting(tmp_path):
    result = run_main(main, {"component": "argocd", "src": str(tmp_path / "install.yaml"),
                             "kubeconfig": str(tmp_path / "absent")})
    assert result["failed"] is True
    assert result["msg"].startswith(f"cannot read {tmp_path / 'install.yaml'}: [Errno 2] No such file")


def test_an_overlay_without_kind_and_name_is_named_before_connecting(tmp_path):
    result = run_main(main, {"component": "x", "definitions": [{"apiVersion": "v1", "kind": "ConfigMap",
                                                               "metadata": {"name": "a"}}],
                             "overlays": [{"data": {"a": "b"}}], "kubeconfig": str(tmp_path / "absent")})
    assert result["failed"] is True and result["msg"] == "every overlay needs kind and metadata.name"
