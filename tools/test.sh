#!/usr/bin/env bash
# `make test`: lint, sanity, unit, integration and molecule, each run even when
# an earlier one failed, then one summary of what ran and passed.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="$repo/build/test-results"
export RESULTS_DIR="$results"
rm -rf "$results"
mkdir -p "$results"
cd "$repo" || exit 1

declare -A status
stage() {
  local name="$1"
  shift
  echo
  echo "##### $name"
  local started=$SECONDS
  if "$@"; then status[$name]="passed"; else status[$name]="FAILED"; fi
  echo "##### $name ${status[$name]} in $((SECONDS - started)) s"
}

stage lint bash -c "ansible-lint --profile production && antsibull-changelog lint"
stage sanity bash tools/sanity.sh
stage unit python -m pytest tests/unit harness/tests tools/tests --ignore=harness/tests/integration --junitxml "$results/unit.xml"
stage integration python -m pytest tests/integration harness/tests/integration --junitxml "$results/integration.xml"
stage molecule bash tools/molecule.sh

python - "$results" lint sanity unit integration molecule "${status[lint]}" "${status[sanity]}" \
  "${status[unit]}" "${status[integration]}" "${status[molecule]}" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

results = Path(sys.argv[1])
names, outcomes = sys.argv[2:7], dict(zip(sys.argv[2:7], sys.argv[7:12]))
rows, failures, total_passed, total_failed, total_skipped = [], [], 0, 0, 0
for name in names:
    junit = results / f"{name}.xml"
    counts = results / f"{name}.counts"
    if junit.exists():
        document = ET.parse(junit).getroot()
        suite = document if document.tag == "testsuite" else document.find("testsuite")
        tests, skipped = int(suite.get("tests")), int(suite.get("skipped"))
        failed = int(suite.get("failures")) + int(suite.get("errors"))
        passed, unit = tests - failed - skipped, "tests"
    elif counts.exists():
        passed, failed = map(int, counts.read_text().split())
        skipped, unit = 0, {"sanity": "sanity tests", "molecule": "scenarios"}[name]
    else:  # a tool run as one check
        passed, failed = (1, 0) if outcomes[name] == "passed" else (0, 1)
        skipped, unit = 0, "check"
    if outcomes[name] != "passed" and failed == 0:
        failed = 1  # the stage itself broke (collection error, crash)
    total_passed, total_failed, total_skipped = total_passed + passed, total_failed + failed, total_skipped + skipped
    rows.append(f"  {name:<12} {outcomes[name]:<7} {passed:>4} passed {failed:>3} failed {skipped:>3} skipped ({unit})")
    if junit.exists():  # name what failed here: CI shows only the end of the log
        for case in document.iter("testcase"):
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            if problem is not None:
                message = (problem.get("message") or problem.text or "").strip().splitlines() or [""]
                failures.append(f"  {case.get('classname')}::{case.get('name')}: {message[0][:300]}")
print("\nmake test summary")
print("\n".join(rows))
if failures:
    print("failed:")
    print("\n".join(failures))
print(f"total: {total_passed} passed, {total_failed} failed, {total_skipped} skipped")
PY
for name in lint sanity unit integration molecule; do
  [[ "${status[$name]}" == "passed" ]] || exit 1
done
