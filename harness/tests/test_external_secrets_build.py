"""harness/builds/build-external-secrets.sh builds External Secrets at exactly the version the catalog's chart runs,
from its source in ../shared/upstream, with the file that keeps DNS in the process."""
from __future__ import annotations

import io
import tarfile

import yaml

from harness import REPO, SHARED
from harness.platform.catalog import catalog_entries
from harness.platform.charts import SHARED_CHARTS
from harness.platform.stack import EXTERNAL_SECRETS_VERSION


def test_the_controller_is_built_at_the_version_the_catalogs_chart_runs_from_its_shared_source():
    [chart] = [entry["source"]["helm"] for entry in catalog_entries() if entry["name"] == "external-secrets"]
    with tarfile.open(SHARED_CHARTS / f"{chart['chart']}-{chart['version']}.tgz") as archive:
        metadata = yaml.safe_load(io.BytesIO(archive.extractfile(f"{chart['chart']}/Chart.yaml").read()))
    assert EXTERNAL_SECRETS_VERSION == "v" + str(metadata["appVersion"]).removeprefix("v")
    assert (SHARED / "upstream" / f"external-secrets-{EXTERNAL_SECRETS_VERSION}-src.tar.gz").is_file()


def test_the_build_adds_the_no_dns_file_to_the_main_package_and_keys_its_cache_on_it():
    script = (REPO / "harness/builds/build-external-secrets.sh").read_text()
    added = REPO / "harness/builds/external-secrets/aphex_no_dns.go"
    assert added.read_text().startswith("// ") and "\npackage main\n" in added.read_text()
    assert "net.DefaultResolver" in added.read_text()
    assert 'cp "$here/external-secrets/aphex_no_dns.go" "$src/"' in script
    assert '"$here/external-secrets/aphex_no_dns.go" | sha256sum' in script
