"""`ansible-galaxy collection build` packs the content and leaves local state out."""
import json
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_build_produces_a_tarball_with_content_and_without_local_state(tmp_path):
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--output-path", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, text=True)
    [tarball] = tmp_path.glob("aphex-platform-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "aphex"
    assert manifest["collection_info"]["name"] == "platform"
    assert "kubernetes.core" in manifest["collection_info"]["dependencies"]
    assert {"meta/runtime.yml", "roles/host_prereqs/tasks/main.yml",
            "roles/host_prereqs/meta/argument_specs.yml"} <= names
    for local_state in (".venv", ".cluster", ".collections", "build", ".git"):
        assert not any(name == local_state or name.startswith(local_state + "/") for name in names), local_state
