#!/usr/bin/env bash
# Build the Debian bookworm image the molecule scenarios run on, locally: no
# registry is reachable, so the root filesystem comes from debootstrap and is
# imported with `docker import`. The tag carries a hash of this script, so an
# existing image is reused and a changed recipe builds a new one.
set -euo pipefail
repository="${APHEX_TEST_IMAGE_REPOSITORY:-aphex-test-debian12}"
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# python3-apt: ansible's apt modules; gnupg: repository keys; kmod/procps/iproute2:
# what the host roles inspect. pciutils is left out on purpose: roles must
# tolerate hosts without lspci.
packages=python3,python3-apt,ca-certificates,gnupg,procps,iproute2,kmod,sudo,curl,xz-utils

recipe_hash="$(sha256sum < "$0" | cut -c1-12)"
image="$repository:$recipe_hash"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "test image: reusing $image" >&2
  docker tag "$image" "$repository:latest"
  exit 0
fi

started=$SECONDS
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
echo "test image: building $image with debootstrap ($mirror)" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >&2
# Keep the image small; molecule converges install what they need from these lists.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV LANG=C.UTF-8' \
  --message "aphex.platform test host, $suite minbase, recipe $recipe_hash" \
  - "$image" >&2
docker tag "$image" "$repository:latest"
echo "test image: built $image in $((SECONDS - started)) s" >&2
