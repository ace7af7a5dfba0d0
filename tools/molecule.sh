#!/usr/bin/env bash
# Run every molecule scenario (molecule/<name>/molecule.yml) one after the
# other on the local Docker image; record passes and failures for the summary.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="${RESULTS_DIR:-$repo/build/test-results}"
mkdir -p "$results"
cd "$repo" || exit 1
passed=0 failed=0 failed_names=()
for config in molecule/*/molecule.yml; do
  scenario="$(basename "$(dirname "$config")")"
  echo "=== molecule scenario $scenario"
  began=$SECONDS
  if molecule test --scenario-name "$scenario"; then
    passed=$((passed + 1))
    echo "=== molecule scenario $scenario passed in $((SECONDS - began)) s"
  else
    failed=$((failed + 1))
    failed_names+=("$scenario")
    echo "=== molecule scenario $scenario FAILED in $((SECONDS - began)) s"
  fi
done
echo "$passed $failed" > "$results/molecule.counts"
echo "molecule: $passed scenario(s) passed, $failed failed ${failed_names[*]:+(${failed_names[*]})}"
[[ $failed -eq 0 ]]
