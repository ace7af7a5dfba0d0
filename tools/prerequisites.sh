#!/usr/bin/env bash
# What `make demo` (demo) and `make test` (test) need from the machine, installed when it can be: the one
# installer of the README's commands and of .ci/run. Usage: tools/prerequisites.sh demo|test
#
# Debian packages are installed with apt-get, as root or through sudo without a password. What cannot be
# installed here (no apt-get, no root, Go older than the builds need, the shared folder) gets one line naming it
# and how to get it, and the command fails before anything else runs. APHEX_INSTALL=no checks without installing.
set -uo pipefail
purpose="${1:-}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${APHEX_SHARED:-$(dirname "$repo")/shared}"
go_minimum="1.26"

# command -> the Debian package that brings it, per purpose
declare -A package_of=([python3.11]=python3.11 [git]=git [make]=make [tar]=tar [redis-server]=redis-server)
# redis-server is the cache of the local ArgoCD (harness/platform/stack.py).
if [[ "$purpose" == test ]]; then
  # docker and debootstrap: molecule's hosts (harness/images); shellcheck: lint; dpkg-scanpackages, dpkg-deb and
  # gpg: the signed stand-in APT repository of the nvidia_gpu_toolkit scenario.
  package_of+=([dockerd]=docker.io [docker]=docker.io [debootstrap]=debootstrap [shellcheck]=shellcheck
               [dpkg-scanpackages]=dpkg-dev [dpkg-deb]=dpkg [gpg]=gnupg [gpgconf]=gnupg)
elif [[ "$purpose" != demo ]]; then
  echo "usage: tools/prerequisites.sh demo|test" >&2
  exit 2
fi

problems=()
problem() { problems+=("$1"); }
if [[ $EUID -eq 0 ]]; then as_root=(); else as_root=(sudo -n); fi

missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${package_of[$command]}")
done
# python3.11 without its venv module (Debian splits it out) cannot make the toolchain's virtualenv
if command -v python3.11 >/dev/null 2>&1 && ! python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3.11-venv)
fi

if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ "${APHEX_INSTALL:-yes}" != no ]] && command -v apt-get >/dev/null 2>&1 &&
     { [[ $EUID -eq 0 ]] || sudo -n true >/dev/null 2>&1; }; then
    echo "prerequisites: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${as_root[@]}" apt-get update -qq && \
           "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      problem "the Debian packages ${missing[*]} could not be installed (apt-get failed above): install them with \`sudo apt-get install ${missing[*]}\`"
    fi
  else
    for package in "${missing[@]}"; do
      problem "$package is missing and cannot be installed here (it needs apt-get as root or passwordless sudo): install it with \`sudo apt-get install $package\`"
    done
  fi
fi

# Go builds the control plane and the platform's tools from their modules; Debian's golang is too old.
if ! command -v go >/dev/null 2>&1; then
  problem "Go >= $go_minimum is missing (it builds the control plane and the tools from their Go modules): install it from https://go.dev/dl/ and put its bin folder on PATH"
else
  found="$(go env GOVERSION 2>/dev/null)"; found="${found#go}"
  if [[ "$(printf '%s\n%s\n' "$go_minimum" "$found" | sort -V | head -1)" != "$go_minimum" ]]; then
    problem "Go >= $go_minimum is needed, $(command -v go) is go$found: install a newer one from https://go.dev/dl/"
  fi
fi

# The upstream material the local platform is built from, which no registry here serves.
absent=()
for needed in charts upstream; do
  [[ -n "$(ls -A "$shared/$needed" 2>/dev/null)" ]] || absent+=("$shared/$needed")
done
if ((${#absent[@]})); then
  problem "${absent[*]} missing (the shared folder beside the checkout: the upstream chart archives and sources the local platform is built from): put it there, or point APHEX_SHARED at it"
fi

if [[ "$purpose" == test ]] && ((${#problems[@]} == 0)) && ! docker info >/dev/null 2>&1; then
  # molecule's hosts are containers; a daemon killed with an earlier session leaves its pid file behind, and
  # dockerd refuses to start while it exists.
  if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  echo "prerequisites: starting dockerd (log: /tmp/aphex-dockerd.log)" >&2
  (setsid "${as_root[@]}" dockerd >/tmp/aphex-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 ||
    problem "the Docker daemon did not start (molecule's hosts need it): see /tmp/aphex-dockerd.log"
fi

if ((${#problems[@]})); then
  printf 'aphex: %s\n' "${problems[@]}" >&2
  exit 1
fi
