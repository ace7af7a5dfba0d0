#!/usr/bin/env bash
# Build, or reuse from cache, one command of a Go module with `go install`, for the test platform's tools
# (nothing can be downloaded here but Go modules). Usage: go-tool.sh NAME PACKAGE VERSION [GOTOOLCHAIN]
#   go-tool.sh helm helm.sh/helm/v4/cmd/helm v4.3.1
# The cache key is the name, version, Go toolchain and platform; one build per key at a time (a second run
# waits for the first, then reuses its binary; the kernel drops the lock however the holder ends). Prints the
# binary's path; progress goes to stderr; the build time is kept beside the binary as build-seconds.
set -euo pipefail
name="$1" package="$2" version="$3" toolchain="${4:-local}"
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN="$toolchain"
go_version="$(go env GOVERSION)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/${name}-${version}_${go_version}_$(go env GOOS)-$(go env GOARCH)"
cached() { [[ -x "$cache/$name" ]]; }
# shellcheck source=build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
reuse_or_lock "$name" "$cache" "$cache/$name" cached
echo "$name: building $package@$version with $go_version" >&2
# Installed beside the cache and renamed in: a reader never sees half a binary.
stage="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
started=$SECONDS
GOBIN="$stage" go install -trimpath -ldflags "-s -w" "$package@$version" >&2
echo "$((SECONDS - started))" > "$cache/build-seconds"
# go install names a command after its package's last element, a major version suffix (/v7) excepted.
binary="$(basename "$package")"
[[ "$binary" =~ ^v[0-9]+$ ]] && binary="$(basename "$(dirname "$package")")"
mv -f "$stage/$binary" "$cache/$name"
echo "$name: built in $((SECONDS - started)) s" >&2
echo "$cache/$name"
