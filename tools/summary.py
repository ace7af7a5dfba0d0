"""The summary `make test` ends with (tools/test.sh): each stage's outcome, counts, seconds and start, the tests
that failed by name (CI shows only the end of the log), the slowest tests, and the wall time. Exits 1 when any
stage failed."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

STAGES = ("builds", "image", "lint", "sanity", "unit", "integration", "molecule")
# what a stage without a JUnit report counts (tools/sanity.sh and tools/molecule.sh write NAME.counts)
UNITS = {"sanity": "sanity tests", "molecule": "scenarios"}


def progress_counts(progress: Path, failures: list, slowest: list):
    """Counts, failures and the slowest tests from a --progress-log (harness/fixtures.py) of a run that did not
    end: each test's seconds are its phases' together, the last test named is the one that was running."""
    seconds, outcomes, last = {}, {}, None
    for line in progress.read_text().splitlines():
        _ended, duration, outcome, phase, nodeid = line.split("\t", 4)
        seconds[nodeid] = seconds.get(nodeid, 0.0) + float(duration)
        if phase == "call" or outcome != "passed":
            outcomes[nodeid] = outcome if outcomes.get(nodeid) in (None, "passed") else outcomes[nodeid]
        last = nodeid
    slowest.extend((spent, nodeid) for nodeid, spent in seconds.items())
    failures.extend(f"  {nodeid}: failed" for nodeid, outcome in outcomes.items() if outcome == "failed")
    if last is not None:
        failures.append(f"  stopped after {last} (the next test was running)")
    values = list(outcomes.values())
    return values.count("passed"), values.count("failed"), values.count("skipped"), "tests, the run stopped"


def stage_row(results: Path, name: str, failures: list, slowest: list):
    status = results / f"{name}.status"
    outcome, seconds, began = status.read_text().split() if status.exists() else ("FAILED", "0", "0")
    junit, counts = results / f"{name}.xml", results / f"{name}.counts"
    progress = results / f"{name}-progress.tsv"
    if junit.exists():
        document = ET.parse(junit).getroot()
        suite = document if document.tag == "testsuite" else document.find("testsuite")
        tests, skipped = int(suite.get("tests")), int(suite.get("skipped"))
        failed = int(suite.get("failures")) + int(suite.get("errors"))
        passed, unit = tests - failed - skipped, "tests"
        for case in document.iter("testcase"):
            slowest.append((float(case.get("time") or 0), f"{case.get('classname')}::{case.get('name')}"))
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            if problem is not None:
                message = (problem.get("message") or problem.text or "").strip().splitlines() or [""]
                failures.append(f"  {case.get('classname')}::{case.get('name')}: {message[0][:300]}")
    elif progress.exists():  # stopped before pytest wrote its report (tools/test.sh's budget)
        passed, failed, skipped, unit = progress_counts(progress, failures, slowest)
    elif counts.exists():
        passed, failed = map(int, counts.read_text().split())
        skipped, unit = 0, UNITS[name]
    else:  # a tool run as one check, or a build
        passed, failed, skipped, unit = (1, 0, 0, "check") if outcome == "passed" else (0, 1, 0, "check")
    if outcome != "passed" and failed == 0:
        failed = 1  # the stage itself broke (collection error, crash)
    row = (f"  {name:<12} {outcome:<7} {passed:>4} passed {failed:>3} failed {skipped:>3} skipped ({unit}), "
           f"{int(seconds):>5} s, started at {int(began):>5} s")
    return row, passed, failed, skipped, outcome == "passed"


def main(results: Path, wall_seconds: int) -> int:
    rows, failures, slowest, totals, ok = [], [], [], [0, 0, 0], True
    for name in STAGES:
        row, passed, failed, skipped, passed_stage = stage_row(results, name, failures, slowest)
        rows.append(row)
        totals = [totals[0] + passed, totals[1] + failed, totals[2] + skipped]
        ok = ok and passed_stage
    print("\nmake test summary")
    print("\n".join(rows))
    print("slowest tests:")
    print("\n".join(f"  {seconds:7.1f} s  {name}" for seconds, name in sorted(slowest, reverse=True)[:10]))
    if failures:
        print("failed:")
        print("\n".join(failures))
    print(f"wall time: {wall_seconds} s")
    # the last line, as CI reads it
    print(f"total: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
