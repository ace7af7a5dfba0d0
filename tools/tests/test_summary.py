"""tools/summary.py: a stage stopped before pytest wrote its report is still counted from its progress log."""
from tools.summary import main


def test_a_stopped_stage_is_counted_from_its_progress_log(tmp_path, capsys):
    (tmp_path / "integration.status").write_text("FAILED 5000 300\n")
    (tmp_path / "integration-progress.tsv").write_text(
        "07:00:00\t2.0\tpassed\tsetup\ttests/a.py::test_one\n"
        "07:00:09\t9.0\tpassed\tcall\ttests/a.py::test_one\n"
        "07:00:09\t0.1\tpassed\tteardown\ttests/a.py::test_one\n"
        "07:01:00\t51.0\tfailed\tcall\ttests/a.py::test_two\n"
        "07:01:00\t0.1\tpassed\tteardown\ttests/a.py::test_two\n"
        "07:01:00\t0.0\tskipped\tsetup\ttests/b.py::test_three\n"
        "07:40:00\t2400.0\tpassed\tsetup\ttests/b.py::test_four\n"
    )
    assert main(tmp_path, 5100) == 1
    out = capsys.readouterr().out
    assert "integration  FAILED     1 passed   1 failed   1 skipped (tests, the run stopped)" in out
    assert out.index("2400.0 s  tests/b.py::test_four") < out.index("51.1 s  tests/a.py::test_two")
    assert "  tests/a.py::test_two: failed" in out
    assert "stopped after tests/b.py::test_four" in out
