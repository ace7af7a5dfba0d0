#!/usr/bin/env bash
# Build the kind binary from its Go module (no download site is reachable here)
# for the kind_cluster scenario's air-gapped path, cached by version. Prints the
# binary's path; its SHA-256 is written beside it as kind.sha256.
set -euo pipefail
version="${KIND_VERSION:-v0.33.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-kind/$version"
if [[ -x "$cache/kind" && -s "$cache/kind.sha256" ]]; then
  echo "kind: reusing cached build $version" >&2
  echo "$cache/kind"
  exit 0
fi
mkdir -p "$cache"
echo "kind: building $version from sigs.k8s.io/kind" >&2
CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$cache" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$version" >&2
sha256sum "$cache/kind" | cut -d' ' -f1 > "$cache/kind.sha256"
echo "$cache/kind"
