#!/usr/bin/env bash
# Build, or reuse from cache, the External Secrets controller from its source in ../shared/upstream (its Go module
# is not served whole): `go build .` links only the Kubernetes provider and the generators (every other provider is
# behind a build tag), plus external-secrets/aphex_no_dns.go (no DNS in the process). The cache key is the source
# archive's hash, that file's and the Go version. Prints the binary's path.
set -euo pipefail
version="${1:-v1.3.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="${APHEX_SHARED:-$here/../../../shared}"
archive="$shared/upstream/external-secrets-$version-src.tar.gz"
[[ -s "$archive" ]] || { echo "external-secrets: no source archive $archive" >&2; exit 1; }
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
key="$(cat "$archive" "$here/external-secrets/aphex_no_dns.go" | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/external-secrets-${version}-${key}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)"
cached() { [[ -x "$cache/external-secrets" ]]; }
# shellcheck source=build-lock.sh
source "$here/build-lock.sh"
reuse_or_lock external-secrets "$cache" "$cache/external-secrets" cached
echo "external-secrets: building $version from $archive (about 4 minutes)" >&2
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
started=$SECONDS
tar -xzf "$archive" -C "$work"
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)"
cp "$here/external-secrets/aphex_no_dns.go" "$src/"
stage="$(mktemp -d "$cache/build.XXXXXX")"
(cd "$src" && go build -trimpath -ldflags "-s -w" -o "$stage/external-secrets" .) >&2
mv -f "$stage/external-secrets" "$cache/external-secrets"
rmdir "$stage"
echo "$((SECONDS - started))" > "$cache/build-seconds"
echo "external-secrets: built in $((SECONDS - started)) s" >&2
echo "$cache/external-secrets"
