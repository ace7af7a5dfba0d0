#!/bin/sh
# Stop what a stopped K3s leaves running (containerd shims and their containers), then release the mounts and
# network links K3s made. Prints "stopped" when it stopped anything, so the task can report a change.
set -u
data_dir="${1:-/var/lib/rancher/k3s}"
stopped=""
for pid in $(pgrep -f "containerd-shim.*${data_dir}" 2>/dev/null; pgrep -x k3s-server 2>/dev/null; pgrep -x k3s-agent 2>/dev/null); do
  kill -9 "$pid" 2>/dev/null && stopped=yes
done
mounts="$(awk '{print $2}' /proc/self/mounts | grep -E "^(/run/k3s|${data_dir}|/var/lib/kubelet/pods|/run/netns/cni-)" | sort -r)"
while IFS= read -r mount_point; do
  [ -n "$mount_point" ] && umount -l "$mount_point" 2>/dev/null && stopped=yes
done <<EOF_MOUNTS
$mounts
EOF_MOUNTS
for link in cni0 flannel.1 flannel-v6.1 flannel-wg kube-ipvs0; do
  if ip link show "$link" >/dev/null 2>&1; then
    ip link delete "$link" && stopped=yes
  fi
done
[ -n "$stopped" ] && echo stopped
exit 0
