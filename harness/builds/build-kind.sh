#!/usr/bin/env bash
# Build the kind binary from its Go module (no download site is reachable here)
# for the kind_cluster scenario's air-gapped path, cached by version. Prints the
# binary's path; its SHA-256 is written beside it as kind.sha256.
set -euo pipefail
version="${KIND_VERSION:-v0.33.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-kind/$version"
cached() { [[ -x "$cache/kind" && -s "$cache/kind.sha256" ]]; }
# shellcheck source=harness/builds/build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
reuse_or_lock kind "$cache" "$cache/kind" cached
echo "kind: building $version from sigs.k8s.io/kind" >&2
# Built beside the cache and renamed in, the checksum last: a reader never sees half a binary.
stage="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$stage" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$version" >&2
sha256sum "$stage/kind" | cut -d' ' -f1 > "$stage/kind.sha256"
mv -f "$stage/kind" "$cache/kind"
mv -f "$stage/kind.sha256" "$cache/kind.sha256"
echo "$cache/kind"
