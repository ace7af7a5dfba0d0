#!/usr/bin/env bash
# Build, or reuse from cache, a program from its source archive in ../shared/upstream (for the programs whose Go
# module is not served whole: External Secrets, Dex; their dependencies come from the Go module proxy), with
# no-dns/aphex_no_dns.go added to its main package (no DNS in the process). The cache key is the archive's hash,
# that file's and the Go version. Prints the binary's path.
# Usage: build-from-source.sh NAME VERSION PACKAGE [LDFLAGS]   (archive: ../shared/upstream/NAME-VERSION-src.tar.gz)
#   build-from-source.sh external-secrets v1.3.2 .
#   build-from-source.sh dex v2.44.0 ./cmd/dex "-X main.version=v2.44.0"
set -euo pipefail
name="$1" version="$2" package="$3" ldflags="${4:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="${APHEX_SHARED:-$here/../../../shared}"
archive="$shared/upstream/$name-$version-src.tar.gz"
[[ -s "$archive" ]] || { echo "$name: no source archive $archive" >&2; exit 1; }
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
key="$(cat "$archive" "$here/no-dns/aphex_no_dns.go" | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/${name}-${version}-${key}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)"
cached() { [[ -x "$cache/$name" ]]; }
# shellcheck source=build-lock.sh
source "$here/build-lock.sh"
reuse_or_lock "$name" "$cache" "$cache/$name" cached
echo "$name: building $version from $archive" >&2
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
started=$SECONDS
tar -xzf "$archive" -C "$work"
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)"
cp "$here/no-dns/aphex_no_dns.go" "$src/$package/"
stage="$(mktemp -d "$cache/build.XXXXXX")"
(cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$stage/$name" "$package") >&2
mv -f "$stage/$name" "$cache/$name"
rmdir "$stage"
echo "$((SECONDS - started))" > "$cache/build-seconds"
echo "$name: built in $((SECONDS - started)) s" >&2
echo "$cache/$name"
