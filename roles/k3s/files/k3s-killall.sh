#!/bin/sh
# Stop what a stopped K3s leaves running, then release what it set up on the host: the service runs with
# KillMode=process, so every pod's containerd shim and the containers below it outlive the service, and deleting
# the data folder under them would leave orphans holding its mounts. Prints "stopped" when it changed anything,
# so the task reports a change only then.
#   k3s-killall.sh DATA_DIR
set -u
data_dir="${1:-/var/lib/rancher/k3s}"
data_dir="${data_dir%/}"
changed=""

# One line per process: pid, parent pid, command name, command line. Read from /proc because a minimal host may
# have no procps (ps, pgrep).
process_table() {
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    parent="$(sed -n 's/^PPid:[[:space:]]*//p' "$proc/status" 2>/dev/null)"
    name="$(cat "$proc/comm" 2>/dev/null)"
    args="$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline")"
    [ -n "$parent" ] && [ -n "$args" ] && printf '%s %s %s %s\n' "$pid" "$parent" "$name" "$args"
  done
}

# A shim's command line starts with the binary K3s unpacked: DATA_DIR/data/<hash>/bin/containerd-shim-runc-v2.
# The K3s processes name themselves k3s-server / k3s-agent (their command line is rewritten).
roots() {
  printf '%s\n' "$1" | while read -r pid _parent name program _rest; do
    case "$program" in
      "$data_dir"/data/*/bin/containerd-shim*) echo "$pid" ;;
      *) case "$name" in k3s-server | k3s-agent | k3s-init) echo "$pid" ;; esac ;;
    esac
  done
}

# Every process below the given ones: the containers are children of their shim.
with_descendants() {
  table="$1"
  shift
  pending="$*"
  while [ -n "$pending" ]; do
    next=""
    for pid in $pending; do
      echo "$pid"
      next="$next $(printf '%s\n' "$table" | awk -v parent="$pid" '$2 == parent {printf "%s ", $1}')"
    done
    pending="$(echo "$next" | tr -s ' ')"
    [ "$pending" = " " ] && pending=""
  done
}

table="$(process_table)"
# shellcheck disable=SC2046  # one pid per word
targets="$(with_descendants "$table" $(roots "$table") | sort -u | tr '\n' ' ')"
if [ -n "${targets% }" ]; then
  # shellcheck disable=SC2086  # one pid per word
  kill -9 $targets 2>/dev/null
  changed=yes
fi

# Deepest mount points first, lazily: a process that just died may still hold one.
mounts="$(awk '{print $2}' /proc/self/mounts \
  | grep -E "^(/run/k3s|${data_dir}|/var/lib/kubelet/pods|/var/lib/kubelet/plugins|/run/netns/cni-)" | sort -r)"
for mount_point in $mounts; do
  umount -l "$mount_point" 2>/dev/null && changed=yes
done
if awk '{print $2}' /proc/self/mounts | grep -qE "^(/run/k3s|${data_dir}|/var/lib/kubelet|/run/netns/cni-)"; then
  echo "k3s-killall: mounts are still held under K3s's folders" >&2
fi

if command -v ip >/dev/null 2>&1; then
  for namespace in $(ip netns show 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
    ip netns delete "$namespace" && changed=yes
  done
  # The pods' veth ends hang off the CNI bridge.
  for link in $(ip -o link show master cni0 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
    ip link delete "$link" 2>/dev/null && changed=yes
  done
  for link in cni0 flannel.1 flannel-v6.1 flannel-wg flannel-wg-v6 kube-ipvs0; do
    if ip link show "$link" >/dev/null 2>&1; then
      ip link delete "$link" && changed=yes
    fi
  done
fi

# Only the chains the kube-proxy, the CNI plugins and flannel made; the host's own rules stay.
for family in iptables ip6tables; do
  if ! command -v "$family-save" >/dev/null 2>&1 || ! command -v "$family-restore" >/dev/null 2>&1; then
    continue
  fi
  rules="$("$family-save" 2>/dev/null)" || continue
  kept="$(printf '%s\n' "$rules" | grep -v -e 'KUBE-' -e 'CNI-' | grep -iv flannel)"
  if [ "$kept" != "$rules" ]; then
    printf '%s\n' "$kept" | "$family-restore" && changed=yes
  fi
done

for folder in /var/lib/cni /var/lib/kubelet /run/k3s; do
  if [ -e "$folder" ] && ! awk '{print $2}' /proc/self/mounts | grep -q "^$folder"; then
    rm -rf "$folder" && changed=yes
  fi
done

[ -n "$changed" ] && echo stopped
exit 0
