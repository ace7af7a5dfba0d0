#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/aphex/platform;
# copy the files git knows of (tracked and new, never ignored ones) there and
# run the sanity tests in ansible-test's own virtualenvs with Python 3.11.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/build/sanity"
dest="$root/ansible_collections/aphex/platform"
# ansible-test bootstraps pip in its virtualenvs with a script from a host that
# is not reachable here; give it the local stand-in under the name it looks for.
pip_version="$(python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)"
mkdir -p "$HOME/.ansible/test/cache"
# Copied, then renamed into place: a sanity run starting meanwhile never reads half a file.
cp "$repo/tools/get_pip.py" "$HOME/.ansible/test/cache/.get_pip.$$"
mv -f "$HOME/.ansible/test/cache/.get_pip.$$" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
rm -rf "$root"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | python3 -c 'import os, sys; sys.stdout.write("".join(f + "\0" for f in sys.stdin.read().split("\0") if os.path.isfile(f)))' \
  | tar --null -T - -cf -) | tar -C "$dest" -xf -
# The collection's dependencies beside it, where ansible-test looks for them (kubernetes.core's doc fragment and
# connection code are part of every cluster module), taken from the ansible package the toolchain installs.
for dependency in kubernetes/core community/general; do
  source="$(python -c "import ansible_collections, os; print(os.path.join(ansible_collections.__path__[0], '$dependency'))")"
  mkdir -p "$root/ansible_collections/$(dirname "$dependency")"
  cp -a "$source" "$root/ansible_collections/$dependency"
done
cd "$dest"
# ansible-test lists files with git; this copy lives in an ignored folder of the
# checkout, so it gets a repository of its own.
git init -q && git add -A
log="$root/sanity.log"
set +e
ansible-test sanity --venv --python 3.11 --color no "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# For the make test summary: tests run, and tests failed.
ran="$(grep -c '^Running sanity test' "$log" || true)"
failed="$(sed -n 's/^FATAL: The \([0-9]*\) sanity test(s) listed below.*/\1/p' "$log")"
failed="${failed:-$((rc == 0 ? 0 : 1))}"
if [[ -n "${RESULTS_DIR:-}" ]]; then echo "$((ran - failed)) $failed" > "$RESULTS_DIR/sanity.counts"; fi
exit "$rc"
