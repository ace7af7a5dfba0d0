#!/usr/bin/env bash
# Build, or reuse from cache, ArgoCD's multi-call binary (argocd-repo-server, argocd-application-controller, ...)
# from the github.com/argoproj/argo-cd/v3 Go module, the release whose manifests/install.yaml the collection pins.
# Its go.mod replaces gitops-engine with ./gitops-engine, a nested module that module zips leave out, so the
# separately served gitops-engine module of the same version is placed there. It needs Go 1.27, fetched as a
# toolchain by the Go module proxy for this build only. The image's helper scripts the repo-server runs by name
# (hack/git-verify-wrapper.sh, hack/gpg-wrapper.sh: the Dockerfile copies them to /usr/local/bin; the repo-server
# runs the first on every Git revision it renders) go beside the binary, from the same module. Prints the
# binary's path.
set -euo pipefail
version="${1:-v3.6.1}" toolchain="${ARGOCD_GOTOOLCHAIN:-go1.27.3}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aphex-tools/argocd-${version}_${toolchain}_$(go env GOOS)-$(go env GOARCH)"
IMAGE_SCRIPTS=(git-verify-wrapper.sh gpg-wrapper.sh)
cached() { [[ -x "$cache/argocd" ]] && for script in "${IMAGE_SCRIPTS[@]}"; do [[ -x "$cache/$script" ]] || return 1; done; }
# shellcheck source=build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
reuse_or_lock argocd "$cache" "$cache/argocd" cached
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
started=$SECONDS
module_dir() {  # the verified, extracted module (go mod download checks it against the checksum database)
  local listing
  # go mod download exits 1 when it reports an error in its JSON; the JSON still says where the module is.
  listing="$(cd "$work" && GOFLAGS=-mod=mod GOTOOLCHAIN="$toolchain" go mod download -json "$1")" || true
  python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("Dir", ""))' "$listing"
}
src="$(module_dir "github.com/argoproj/argo-cd/v3@$version")"
engine="$(module_dir "github.com/argoproj/argo-cd/gitops-engine/v3@$version")"
[[ -d "$src" && -d "$engine" ]] || { echo "argocd: the Go module proxy did not give $version" >&2; exit 1; }
for script in "${IMAGE_SCRIPTS[@]}"; do
  install -m 0755 "$src/hack/$script" "$cache/$script.partial"
  mv -f "$cache/$script.partial" "$cache/$script"
done
if [[ -x "$cache/argocd" ]]; then  # a binary cached before the scripts were kept beside it
  echo "argocd: added the image's scripts to the cached build ($cache)" >&2
  echo "$cache/argocd"
  exit 0
fi
echo "argocd: building $version with $toolchain (a few minutes)" >&2
cp -r "$src" "$work/argo-cd"
chmod -R u+w "$work/argo-cd"
rm -rf "$work/argo-cd/gitops-engine"
cp -r "$engine" "$work/argo-cd/gitops-engine"
chmod -R u+w "$work/argo-cd/gitops-engine"
stage="$(mktemp -d "$cache/build.XXXXXX")"
(
  cd "$work/argo-cd"
  CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN="$toolchain" GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${version#v}" \
    -o "$stage/argocd" ./cmd >&2
)
mv -f "$stage/argocd" "$cache/argocd"
rmdir "$stage"
echo "$((SECONDS - started))" > "$cache/build-seconds"
echo "argocd: built in $((SECONDS - started)) s" >&2
echo "$cache/argocd"
