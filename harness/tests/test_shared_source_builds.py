"""harness/builds/build-from-source.sh, for the programs built from sources in ../shared/upstream (External Secrets,
Dex): each at exactly the version its catalog chart runs, from its source archive, with the file that keeps DNS
out of the process in its main package."""
from __future__ import annotations

import io
import tarfile

import pytest
import yaml

from harness import REPO, SHARED
from harness.platform.catalog import catalog_entries
from harness.platform.charts import SHARED_CHARTS
from harness.platform.stack import DEX_VERSION, EXTERNAL_SECRETS_VERSION

SCRIPT = REPO / "harness/builds/build-from-source.sh"


@pytest.mark.parametrize("app, version", [("external-secrets", EXTERNAL_SECRETS_VERSION), ("dex", DEX_VERSION)])
def test_the_program_is_built_at_the_version_the_catalogs_chart_runs_from_its_shared_source(app, version):
    [chart] = [entry["source"]["helm"] for entry in catalog_entries() if entry["name"] == app]
    with tarfile.open(SHARED_CHARTS / f"{chart['chart']}-{chart['version']}.tgz") as archive:
        metadata = yaml.safe_load(io.BytesIO(archive.extractfile(f"{chart['chart']}/Chart.yaml").read()))
    assert version == "v" + str(metadata["appVersion"]).removeprefix("v")
    assert (SHARED / "upstream" / f"{app}-{version}-src.tar.gz").is_file()


def test_the_build_adds_the_no_dns_file_to_the_main_package_and_keys_its_cache_on_it():
    script = SCRIPT.read_text()
    added = REPO / "harness/builds/no-dns/aphex_no_dns.go"
    assert added.read_text().startswith("// ") and "\npackage main\n" in added.read_text()
    assert "net.DefaultResolver" in added.read_text()
    assert 'cp "$here/no-dns/aphex_no_dns.go" "$src/$package/"' in script
    assert '"$here/no-dns/aphex_no_dns.go" | sha256sum' in script
    assert '-o "$stage/$name" "$package"' in script
