# shellcheck shell=bash
# Sourced by the build scripts: one build per cache key at a time.
# must_build NAME CACHE_DIR CHECK...: returns 0 when the caller must build (holding the lock on fd 9), 1 when
# CHECK says the cache is complete, before or after waiting for another run that was building the same key.
# The kernel drops the lock when the holder ends, however it ends, so a killed build leaves none behind.
must_build() {
  local name="$1" cache="$2"
  shift 2
  "$@" && return 1
  mkdir -p "$cache"
  exec 9>"$cache/build.lock"
  if ! flock --nonblock 9; then
    echo "$name: another run is building it; waiting for it" >&2
    flock 9
  fi
  "$@" && return 1
  return 0
}

# reuse_or_lock NAME CACHE_DIR ARTIFACT CHECK...: prints ARTIFACT and ends the calling script when CHECK says the
# cache is complete (now or once another run finished building it); otherwise returns holding the lock.
reuse_or_lock() {
  local name="$1" cache="$2" artifact="$3"
  shift 3
  if ! must_build "$name" "$cache" "$@"; then
    echo "$name: reusing cached build ($cache)" >&2
    echo "$artifact"
    exit 0
  fi
}
