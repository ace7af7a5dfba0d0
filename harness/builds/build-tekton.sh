#!/usr/bin/env bash
# Build, or reuse from cache, the commands of Tekton Pipelines and Tekton Triggers the test platform runs, from the
# Go modules of the releases the catalog pins (harness/builds/tekton/go.mod, kept equal to the catalog by a test):
# Pipelines' controller, webhook and resolvers; Triggers' controller, webhook, core interceptors and EventListener
# sink - the sink from tekton/eventlistenersink/main.go, Triggers' library with host names resolved in the process
# (never by the machine's name server). The cache key is the module's hash and the Go version. Prints the folder holding the binaries, each named
# after the Deployment that runs it upstream.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/tekton" && pwd)"
export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly
key="$(cat "$src/go.mod" "$src/go.sum" "$src"/*/*.go | sha256sum | cut -c1-16)"
pipeline="$(awk '$1 == "github.com/tektoncd/pipeline" {print $2}' "$src/go.mod")"
triggers="$(awk '$1 == "github.com/tektoncd/triggers" {print $2}' "$src/go.mod")"
commands=(
  tekton-pipelines-controller=github.com/tektoncd/pipeline/cmd/controller
  tekton-pipelines-webhook=github.com/tektoncd/pipeline/cmd/webhook
  tekton-pipelines-remote-resolvers=github.com/tektoncd/pipeline/cmd/resolvers
  tekton-triggers-controller=github.com/tektoncd/triggers/cmd/controller
  tekton-triggers-webhook=github.com/tektoncd/triggers/cmd/webhook
  tekton-triggers-core-interceptors=github.com/tektoncd/triggers/cmd/interceptors
  tekton-triggers-eventlistenersink=./eventlistenersink
)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/tekton-${pipeline}-triggers-${triggers}-${key}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)"
cached() {
  local command
  for command in "${commands[@]}"; do [[ -x "$cache/bin/${command%%=*}" ]] || return 1; done
}
# shellcheck source=build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
reuse_or_lock tekton "$cache" "$cache/bin" cached
echo "tekton: building Pipelines $pipeline and Triggers $triggers (a few minutes)" >&2
stage="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
started=$SECONDS
for command in "${commands[@]}"; do
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$stage/${command%%=*}" "${command#*=}") >&2
done
rm -rf "${cache:?}/bin"
mv "$stage" "$cache/bin"
trap - EXIT
echo "$((SECONDS - started))" > "$cache/build-seconds"
echo "tekton: built in $((SECONDS - started)) s" >&2
echo "$cache/bin"
