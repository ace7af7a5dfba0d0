#!/usr/bin/env bash
# Build, on the controller, stand-ins for the NVIDIA Container Toolkit packages (same names, versions and
# dependencies, shell scripts for the binaries) and a signed flat APT repository holding them, laid out like
# NVIDIA's: nvidia.github.io cannot be reached here. Output in $1: repo/ (Packages, InRelease), key.asc,
# debs/*.deb and a checksum file per package.
set -euo pipefail
out="$1"
version="${2:-1.20.2}-1"
rm -rf "$out" && mkdir -p "$out/repo" "$out/debs" "$out/build"

make_deb() {  # name, depends, then path=content pairs for executables
  local name="$1" depends="$2"; shift 2
  local root="$out/build/$name"
  mkdir -p "$root/DEBIAN"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: all"
    echo "Maintainer: Aphex platform tests <tests@aphex.invalid>"
    [[ -n "$depends" ]] && echo "Depends: $depends"
    echo "Description: molecule stand-in for NVIDIA's $name"
  } > "$root/DEBIAN/control"
  for pair in "$@"; do
    local path="${pair%%=*}" text="${pair#*=}"
    mkdir -p "$root$(dirname "$path")"
    printf '#!/bin/sh\n%s\n' "$text" > "$root$path"
    chmod 0755 "$root$path"
  done
  dpkg-deb --root-owner-group --build "$root" "$out/debs/${name}_${version}_all.deb" >/dev/null
  sha256sum "$out/debs/${name}_${version}_all.deb" | cut -d' ' -f1 > "$out/debs/${name}_${version}_all.deb.sha256"
}

make_deb libnvidia-container1 ""
make_deb libnvidia-container-tools "libnvidia-container1 (>= $version)" \
  "/usr/bin/nvidia-container-cli=echo \"cli-version: ${version%-1}\""
make_deb nvidia-container-toolkit-base "" \
  "/usr/bin/nvidia-ctk=echo \"NVIDIA Container Toolkit CLI version ${version%-1}\"" \
  "/usr/bin/nvidia-container-runtime=echo \"NVIDIA Container Runtime version ${version%-1}\""
make_deb nvidia-container-toolkit "nvidia-container-toolkit-base (= $version), libnvidia-container-tools (>= $version)" \
  "/usr/bin/nvidia-container-runtime-hook=exit 0"

cp "$out"/debs/*.deb "$out/repo/"
(cd "$out/repo" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null && gzip -9kn Packages)
{
  echo "Origin: aphex-molecule"
  echo "Label: nvidia-container-toolkit stand-in"
  echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
  echo "SHA256:"
  for file in Packages Packages.gz; do
    printf ' %s %s %s\n' "$(sha256sum < "$out/repo/$file" | cut -d' ' -f1)" "$(stat -c %s "$out/repo/$file")" "$file"
  done
} > "$out/repo/Release"

export GNUPGHOME="$out/build/gnupg"
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Aphex molecule toolkit repo <tests@aphex.invalid>" ed25519 sign never
gpg --batch --quiet --armor --export > "$out/key.asc"
gpg --batch --quiet --yes --clearsign --output "$out/repo/InRelease" "$out/repo/Release"
sha256sum "$out/key.asc" | cut -d' ' -f1 > "$out/key.asc.sha256"
gpgconf --kill all 2>/dev/null || true
rm -rf "$out/build"
