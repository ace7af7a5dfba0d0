#!/usr/bin/env bash
# Build, or reuse from cache, harness/builds/cert-manager-controller: cert-manager's controllers from the Go module of
# the release the catalog pins (its go.mod), with only the issuer types that need nothing but the API server.
# The build is refused if its package list holds an issuer that dials out of the machine (ACME and its DNS
# providers, Vault, Venafi). The cache key is the source's hash and the Go version. Prints the binary's path.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/cert-manager-controller" && pwd)"
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly
key="$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -c1-16)"
version="$(awk '$1 == "github.com/cert-manager/cert-manager" {print $2}' "$src/go.mod")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/cert-manager-controller-${version}-${key}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)"
cached() { [[ -x "$cache/cert-manager-controller" ]]; }
# shellcheck source=build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
reuse_or_lock cert-manager-controller "$cache" "$cache/cert-manager-controller" cached
echo "cert-manager-controller: building cert-manager $version's controllers (a few minutes)" >&2
dialling_out='/pkg/issuer/(acme|vault|venafi)|/pkg/controller/(acmeorders|acmechallenges)|/certificaterequests/(acme|vault|venafi)$'
if (cd "$src" && go list -deps .) | grep -E "$dialling_out" >&2; then
  echo "cert-manager-controller: the packages above can dial out of the machine; refusing to build" >&2
  exit 1
fi
stage="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
started=$SECONDS
(cd "$src" && go build -trimpath -ldflags "-s -w" -o "$stage/cert-manager-controller" .) >&2
mv -f "$stage/cert-manager-controller" "$cache/cert-manager-controller"
echo "$((SECONDS - started))" > "$cache/build-seconds"
echo "cert-manager-controller: built in $((SECONDS - started)) s" >&2
echo "$cache/cert-manager-controller"
