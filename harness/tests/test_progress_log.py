"""harness/fixtures.py's --progress-log: each test phase is written as it ends, so a run stopped from outside
still says where its time went."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_each_phase_is_logged_with_its_outcome_and_seconds(tmp_path):
    (tmp_path / "test_sample.py").write_text(
        "import time\n"
        "def test_slow():\n    time.sleep(0.3)\n"
        "def test_fails():\n    assert False\n"
    )
    log = tmp_path / "progress.tsv"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "harness.fixtures", "--rootdir",
         str(tmp_path), "--progress-log", str(log), str(tmp_path / "test_sample.py")],
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, check=False)
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    calls = {row[4].split("::")[1]: row for row in rows if row[3] == "call"}
    assert calls["test_slow"][2] == "passed" and float(calls["test_slow"][1]) >= 0.3
    assert calls["test_fails"][2] == "failed"
    assert {row[3] for row in rows} == {"setup", "call", "teardown"}


def test_without_the_option_nothing_is_written(tmp_path):
    (tmp_path / "test_sample.py").write_text("def test_one():\n    pass\n")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "harness.fixtures", "--rootdir",
         str(tmp_path), str(tmp_path / "test_sample.py")],
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, check=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["test_sample.py"]
