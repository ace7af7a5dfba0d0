"""Tekton Triggers' and the Tekton Dashboard's release manifests, built from the upstream `config/` sources in
../shared/upstream the way Tekton's release does (Triggers: config/*.yaml is release.yaml, config/interceptors/ is
interceptors.yaml; the Dashboard: `kustomize build config`), minus `ko`: images keep a readable name and tag
instead of a published digest, which nothing here pulls. Laid out as the role's platform_release_manifests_dir
expects: <dir>/<set>/<version>/<file>."""
from __future__ import annotations

import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

import yaml

from harness.controlplane.cluster import binaries
from harness.platform.catalog import role_defaults
from harness import SHARED

SHARED_UPSTREAM = SHARED / "upstream"


def _resolve(text: str, version: str) -> str:
    text = re.sub(r"ko://github\.com/tektoncd/([a-z]+)/cmd/([a-z]+)", rf"ghcr.io/tektoncd/\1/cmd/\2:{version}", text)
    return re.sub(r'"?devel"?(\s*$)', rf'"{version}"\1', text, flags=re.MULTILINE)


def _concatenated(folder: Path, version: str) -> str:
    documents = []
    for path in sorted(folder.glob("*.yaml")):
        documents.append(_resolve(path.read_text(), version))
    return "\n---\n".join(documents)


def build_release_manifests(target: Path) -> dict:
    """Writes every set of the role's platform_release_manifests; returns set name to its folder."""
    releases = role_defaults()["platform_release_manifests"]
    folders = {}
    with tempfile.TemporaryDirectory() as scratch:
        for archive in SHARED_UPSTREAM.glob("*-config.tar.gz"):
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
        sources = Path(scratch)
        for name, release in releases.items():
            version = release["version"]
            config = sources / f"{name}-{version}" / "config"
            folder = target / name / version
            folder.mkdir(parents=True, exist_ok=True)
            if name == "tekton-triggers":
                texts = {"release.yaml": _concatenated(config, version),
                         "interceptors.yaml": _concatenated(config / "interceptors", version)}
            elif name == "tekton-dashboard":
                built = subprocess.run([str(binaries() / "kubectl"), "kustomize", str(config)], check=True,
                                       capture_output=True, text=True).stdout
                texts = {"release.yaml": _resolve(built, version)}
            else:
                raise ValueError(f"no upstream source known for release manifest set {name}")
            assert set(texts) == {f["name"] for f in release["files"]}, name
            for file_name, text in texts.items():
                # Every document must parse, as the role will parse it.
                list(yaml.safe_load_all(text))
                (folder / file_name).write_text(text)
            folders[name] = folder
    return folders


if __name__ == "__main__":
    import sys
    for set_name, set_folder in build_release_manifests(Path(sys.argv[1])).items():
        print(set_name, set_folder)
