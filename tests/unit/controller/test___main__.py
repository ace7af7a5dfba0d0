"""The controller's settings file and default pipeline, read before it connects to anything."""
from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.controller.__main__ import (
    DEFAULT_PIPELINE, SettingsError, default_pipeline, main, tenancy_settings)


def test_the_settings_file_holds_the_modules_tenancy_arguments(tmp_path):
    path = tmp_path / "tenancy.yml"
    path.write_text("webhook_domain: hooks.example.com\nquota: {limits.cpu: '4'}\negress: restricted\n")
    settings = tenancy_settings(str(path))
    assert settings.webhook_url("acme") == "https://acme.hooks.example.com"
    assert settings.quota["limits.cpu"] == "4" and settings.quota["pods"] == "20"  # over the platform's default
    assert settings.egress == "restricted"


@pytest.mark.parametrize("text, message", [
    ("prune: true\n", "unknown setting(s) prune"),
    ("- a\n", "must be a mapping"),
    ("webhook_domain: [\n", "--settings"),
])
def test_a_bad_settings_file_is_refused_naming_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "tenancy.yml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tenancy_settings(str(path))


def test_main_exits_with_the_error_and_no_traceback(tmp_path, capsys):
    path = tmp_path / "tenancy.yml"
    path.write_text("lock_holder: me\n")
    assert main(["--settings", str(path), "--kubeconfig", str(tmp_path / "none")]) == 2
    assert "unknown setting(s) lock_holder" in capsys.readouterr().err


def test_the_default_pipeline_is_the_catalogs_build_and_deploy_without_its_catalog_metadata():
    document = default_pipeline(DEFAULT_PIPELINE)
    assert set(document) == {"apiVersion", "kind", "spec"} and document["kind"] == "Pipeline"
    assert document["spec"]["tasks"]


def test_the_image_installs_what_the_controller_is_tested_with():
    from harness import REPO

    def pins(path):
        return {line.split("==")[0].lower(): line.split("==")[1] for line in path.read_text().splitlines()
                if "==" in line and not line.startswith("#")}
    image = pins(REPO / "controller" / "requirements.txt")
    tested = pins(REPO / "tests" / "requirements.lock")
    assert image == {name: tested[name] for name in image}
    assert {"kopf", "kubernetes", "ansible-core"} <= set(image)
    containerfile = (REPO / "controller" / "Containerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "ansible_collections.aphex.platform.controller"]' in containerfile
