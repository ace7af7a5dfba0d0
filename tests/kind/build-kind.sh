#!/usr/bin/env bash
# Build the kind binary from its Go module (no download site is reachable here)
# for the kind_cluster scenario's air-gapped path, cached by version. Prints the
# binary's path; its SHA-256 is written beside it as kind.sha256.
set -euo pipefail
version="${KIND_VERSION:-v0.33.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-kind/$version"
cached() { [[ -x "$cache/kind" && -s "$cache/kind.sha256" ]]; }
if cached; then
  echo "kind: reusing cached build $version" >&2
  echo "$cache/kind"
  exit 0
fi
mkdir -p "$cache"
# One build per version at a time; a second run waits for the first and reuses its binary. The kernel drops
# the lock when the holder ends, however it ends.
exec 9>"$cache/build.lock"
if ! flock --nonblock 9; then
  echo "kind: another run is building $version; waiting for it" >&2
  flock 9
fi
if cached; then
  echo "kind: reusing the build another run just finished ($version)" >&2
  echo "$cache/kind"
  exit 0
fi
echo "kind: building $version from sigs.k8s.io/kind" >&2
# Built beside the cache and renamed in, the checksum last: a reader never sees half a binary.
stage="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$stage" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$version" >&2
sha256sum "$stage/kind" | cut -d' ' -f1 > "$stage/kind.sha256"
mv -f "$stage/kind" "$cache/kind"
mv -f "$stage/kind.sha256" "$cache/kind.sha256"
echo "$cache/kind"
