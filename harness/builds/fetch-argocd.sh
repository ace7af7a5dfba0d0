#!/usr/bin/env bash
# Put ArgoCD's upstream install manifest where an air-gapped install would keep it: a controller-local file with
# its SHA-256. GitHub cannot be reached from here, but the Go module proxy serves the argo-cd module, whose
# source tree holds manifests/install.yaml for the release. Prints the file's path.
set -euo pipefail
version="${1:-v3.6.1}"
cache="${APHEX_ARGOCD_CACHE:-$HOME/.cache/aphex-argocd}/$version"
cached() { [[ -s "$cache/install.yaml" && -s "$cache/install.yaml.sha256" ]]; }
# One fetch per version at a time (the demo and the tests may start together).
# shellcheck source=harness/builds/build-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lock.sh"
must_build "argocd manifest $version" "$cache" cached || true
if cached; then
  echo "argocd manifest: reusing $cache/install.yaml" >&2
else
  echo "argocd manifest: fetching github.com/argoproj/argo-cd/v3@$version from the Go module proxy" >&2
  # The download checks the module zip against the Go checksum database; the module needs a newer Go to
  # build, which does not matter here: only the zip is used.
  # (go mod download exits 1 for that reason, after verifying and keeping the zip.)
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  download="$(cd "$scratch" && { GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$version" || true; })"
  zip_path="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("Zip", ""))' "$download")"
  if [[ ! -s "$zip_path" ]]; then
    echo "argocd manifest: the Go module proxy did not give the module: $download" >&2
    exit 1
  fi
  # Written beside their final names and renamed, the checksum last: a reader never sees half a file.
  python3 - "$zip_path" "github.com/argoproj/argo-cd/v3@$version/manifests/install.yaml" "$cache/install.yaml.partial" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive, open(sys.argv[3], "wb") as out:
    out.write(archive.read(sys.argv[2]))
PY
  chmod 0644 "$cache/install.yaml.partial"
  sha256sum "$cache/install.yaml.partial" | cut -d' ' -f1 > "$cache/install.yaml.sha256.partial"
  mv -f "$cache/install.yaml.partial" "$cache/install.yaml"
  mv -f "$cache/install.yaml.sha256.partial" "$cache/install.yaml.sha256"
fi
echo "$cache/install.yaml"
