"""harness/builds/build-tekton.sh builds Tekton from the Go modules of exactly the releases the catalog installs:
Pipelines at the tekton-pipeline chart's app version, Triggers at the release-manifest set's version - so the
processes the test platform runs are those the apps' Deployments would run."""
from __future__ import annotations

import io
import tarfile

import yaml

from harness import REPO
from harness.platform.catalog import catalog_entries, role_defaults
from harness.platform.charts import SHARED_CHARTS

GO_MOD = REPO / "harness/builds/tekton/go.mod"


def required(module: str) -> str:
    [version] = [line.split()[1] for line in GO_MOD.read_text().splitlines()
                 if line.strip().startswith(module + " ")]
    return version


def test_pipelines_is_built_at_the_version_the_catalogs_chart_runs():
    [chart] = [entry["source"]["helm"] for entry in catalog_entries() if entry["name"] == "tekton-pipelines"]
    with tarfile.open(SHARED_CHARTS / f"{chart['chart']}-{chart['version']}.tgz") as archive:
        metadata = yaml.safe_load(io.BytesIO(archive.extractfile(f"{chart['chart']}/Chart.yaml").read()))
    assert required("github.com/tektoncd/pipeline") == "v" + str(metadata["appVersion"]).removeprefix("v")


def test_triggers_is_built_at_the_version_of_the_release_manifests():
    release = role_defaults()["platform_release_manifests"]["tekton-triggers"]
    assert required("github.com/tektoncd/triggers") == release["version"]


def test_every_command_the_stack_runs_is_a_tool_of_the_module_and_built_by_the_script():
    from harness.platform.stack import TEKTON_COMPONENTS

    script = (REPO / "harness/builds/build-tekton.sh").read_text()
    tools = GO_MOD.read_text().split("tool (", 1)[1].split(")", 1)[0].split()
    for name in TEKTON_COMPONENTS:
        [package] = [line.split("=", 1)[1] for line in script.splitlines() if line.strip().startswith(name + "=")]
        assert package in tools, name
