"""cluster-down stops only processes it recorded, and only while they still run what was recorded."""
import json
import subprocess
import sys
from pathlib import Path

from harness.controlplane.cluster import ControlPlane


def test_down_stops_recorded_processes_and_ignores_reused_pids(tmp_path):
    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        plane = ControlPlane(tmp_path)
        tmp_path.joinpath("state.json").write_text(json.dumps({"components": [
            {"name": "etcd", "pid": sleeper.pid, "executable": "/usr/bin/sleep"},
            # A pid whose process no longer runs the recorded binary is left alone.
            {"name": "kube-apiserver", "pid": bystander.pid, "executable": sys.executable},
        ]}))
        assert plane.running_components() == ["etcd"]
        assert plane.down() == ["etcd"]
        # down() reaped its own child already, so only absence can be checked.
        assert not Path(f"/proc/{sleeper.pid}").exists()
        assert bystander.poll() is None
        assert not tmp_path.joinpath("state.json").exists()
        assert plane.down() == []
    finally:
        bystander.kill()
        sleeper.kill()
        bystander.wait()
        sleeper.wait()


def test_is_up_is_false_without_state(tmp_path):
    assert ControlPlane(tmp_path).is_up() is False
