#!/usr/bin/env bash
# `make test`: lint, sanity, unit, integration and molecule, each run even when an earlier one failed, then one
# summary of what ran and passed and how long each stage took (and when it started).
#
# The two cores are kept busy with work that does not contend (docs/performance.md, "CI"):
#   builds       the control plane, then every tool of the platform stack from their Go modules (cached; the tools
#                at a lower priority, so that the tests beside them come first), and
#   image        molecule's Debian image (debootstrap: mostly waiting on the network), both in the background while
#   lint, sanity, unit run one after another;
#   molecule     then starts in the background (Docker containers, mostly waiting on Ansible), and
#   integration  once the control plane is built, the live-platform tests last (by then their tools are built;
#                were they not, their first test waits for the build under its lock rather than building again).
# Each stage writes its output to build/test-results/logs/<stage>.log, printed whole when the stage ends.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="$repo/build/test-results"
logs="$results/logs"
export RESULTS_DIR="$results"
rm -rf "$results"
mkdir -p "$logs"
cd "$repo" || exit 1
python="$repo/.venv/bin/python"
declare -A pid_of=()
# CI stops a run at 90 minutes and then shows only the end of its output: the stages still running at this many
# seconds are stopped (their fixtures' finalizers run), so that the summary, with the tests that took the time
# (the integration stage's progress log), is still printed.
budget="${TEST_BUDGET_SECONDS:-5100}"

# timed NAME COMMAND...: run a stage, its output to its log; its outcome, seconds and start in $results/NAME.status
timed() {
  local name="$1" began=$SECONDS outcome=passed
  shift
  "$@" >"$logs/$name.log" 2>&1 || outcome=FAILED
  echo "$outcome $((SECONDS - began)) $began" >"$results/$name.status"
}

# start NAME COMMAND...: a stage in the background
start() {
  echo "##### $1 started at $SECONDS s (in the background)"
  timed "$@" &
  pid_of[$1]=$!
}

# finish NAME: wait for a background stage (if any), then print its log and outcome
finish() {
  local name="$1" outcome seconds
  [[ -n "${pid_of[$name]:-}" ]] && wait "${pid_of[$name]}"
  read -r outcome seconds _ <"$results/$name.status"
  echo
  echo "##### $name"
  cat "$logs/$name.log"
  echo "##### $name $outcome in $seconds s"
  [[ "$outcome" == passed ]]
}

# stage NAME COMMAND...: a stage in the foreground
stage() {
  echo "##### $1 started at $SECONDS s"
  timed "$@"
  finish "$1"
}

controlplane_built="$results/controlplane.built"
start builds bash -c "bash harness/controlplane/build.sh >/dev/null && touch '$controlplane_built' &&
  nice -n 10 '$python' -m harness.platform build"
start image bash harness/images/build-test-image.sh
stage lint make --no-print-directory lint
stage sanity bash tools/sanity.sh
stage unit "$python" -m pytest tests/unit harness/tests tools/tests --ignore=harness/tests/integration \
  --junitxml "$results/unit.xml" -p no:cacheprovider
if finish image; then
  # molecule's Ansible at a lower priority: the integration stage beside it is the longer one
  start molecule timeout -k 60 $((budget - SECONDS)) nice -n 10 bash tools/molecule.sh
else
  echo "the test image could not be built (see the image stage)" >"$logs/molecule.log"
  echo "FAILED 0 $SECONDS" >"$results/molecule.status"
fi
while [[ ! -e "$controlplane_built" ]] && kill -0 "${pid_of[builds]}" 2>/dev/null; do sleep 2; done
stage integration timeout -k 60 $((budget - SECONDS)) "$python" -m pytest tests/integration/test_[!p]*.py \
  harness/tests/integration tests/integration/test_platform_*.py --junitxml "$results/integration.xml" \
  --progress-log "$results/integration-progress.tsv" --timeout 1500 -p no:cacheprovider
finish builds
finish molecule

"$python" tools/summary.py "$results" "$SECONDS"
