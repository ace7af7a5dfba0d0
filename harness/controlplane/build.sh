#!/usr/bin/env bash
# Build, or reuse from cache, the control-plane binaries used by the integration
# tests: kube-apiserver, kube-controller-manager and kubectl from k8s.io/kubernetes, and
# etcd from go.etcd.io/etcd/server/v3, all from the Go module proxy.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# kube-scheduler places the pods of the platform's charts on KWOK's nodes (harness/platform).
components=(kube-apiserver kube-controller-manager kubectl kube-scheduler)

# GOTOOLCHAIN=local: a too-new module fails clearly instead of fetching a Go.
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
go_version="$(go env GOVERSION)"
platform="$(go env GOOS)-$(go env GOARCH)"
key="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${go_version}_${platform}_r${RECIPE_REV}"
cache_root="${CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aphex-controlplane}"
bin="$cache_root/$key/bin"

complete() {
  local name
  for name in "${components[@]}" etcd; do [[ -x "$bin/$name" ]] || return 1; done
}
# One builder per cache key: `make demo` and `make test` started together would otherwise both fill bin.partial.
# shellcheck source=harness/builds/build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/../builds/build-lock.sh"
reuse_or_lock "control plane $key" "$cache_root/$key" "$bin" complete
echo "control plane: no cached build for $key, building from Go modules (cold: tens of minutes)" >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Filled beside the final folder and renamed at the end, so an interrupted
# build never looks complete. A cached build that lacks a component added since (kube-scheduler) is completed:
# only the missing commands are built, the Go build cache has the rest.
stage="$cache_root/$key/bin.partial"
rm -rf "$stage"
if [[ -d "$bin" ]]; then cp -a "$bin" "$stage"; else mkdir -p "$stage"; fi
mkdir -p "$work/k8s" "$work/etcd"
missing=()
for name in "${components[@]}"; do [[ -x "$stage/$name" ]] || missing+=("$name"); done
started=$SECONDS

upstream_gomod="$(cd "$work" && go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')"
python3 "$here/gen_gomod.py" "$upstream_gomod" "$K8S_VERSION" > "$work/k8s/go.mod"
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for name in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$name"; done
  printf ')\n'
} > "$work/k8s/tools.go"

# A plain go build reports v0.0.0-master; clients that parse /version need the real string.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
packages=()
for name in "${missing[@]}"; do packages+=("k8s.io/kubernetes/cmd/$name"); done
if ((${#packages[@]})); then
  (
    cd "$work/k8s"
    go mod tidy >&2
    go build -trimpath -ldflags "$ldflags" -o "$stage/" "${packages[@]}" >&2
  )
  echo "control plane: ${missing[*]} built after $((SECONDS - started)) s" >&2
fi

cat > "$work/etcd/go.mod" <<GOMOD
module controlplane-etcd

go 1.26

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
GOMOD
cat > "$work/etcd/main.go" <<'GOSRC'
// etcd's own main is this one call; its go.mod has replace directives, so
// `go install` cannot build it and this wrapper module does.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GOSRC
if [[ ! -x "$stage/etcd" ]]; then
  (
    cd "$work/etcd"
    go mod tidy >&2
    go build -trimpath -ldflags "-s -w" -o "$stage/etcd" . >&2
  )
  echo "control plane: etcd built after $((SECONDS - started)) s" >&2
fi

[[ -s "$stage/build-seconds" ]] || printf '%s\n' "$((SECONDS - started))" > "$stage/build-seconds"
rm -rf "$bin"
mv "$stage" "$bin"
echo "$bin"
