#!/bin/bash
# Gives one Warren container its own cgroup directories on the host, once, as
# root: /sys/fs/cgroup/<controller>/NAME for memory, pids, cpu and cpuacct
# (cgroup v1), owned by HOST_UID: the host uid that is Warren's uid 10000 inside
# the container (10000 under rootful podman or Docker; under rootless podman
# the user's first subordinate uid + 9999: `podman unshare` shows the map).
# The container gets them bound read-write over its own cgroup mounts:
#   -v /sys/fs/cgroup/memory/NAME:/sys/fs/cgroup/memory:rw  (and pids, cpu, cpuacct)
#   -e WARREN_CGROUP_ROOT=/
#
# usage: sudo deploy/delegate-cgroups.sh NAME [HOST_UID]      (HOST_UID default 10000)
#
# One directory per Warren container, never shared: at start-up Warren removes
# (and kills) per-execution cgroups whose launcher pid is not alive, and a
# launcher of another container is not visible in this one's pid namespace.
# Each step is idempotent. What it does is what `warren setup-cgroups --user`
# does on a host (src/sandbox/cgroup/v1.ts, delegate()).
set -euo pipefail
name=${1:?usage: sudo $0 NAME [HOST_UID]}
uid=${2:-10000}
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "delegate-cgroups: NAME must be letters, digits, . _ -" >&2; exit 2; }
[[ $uid =~ ^[0-9]+$ ]] || { echo "delegate-cgroups: HOST_UID must be a number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "delegate-cgroups: run as root" >&2; exit 1; }
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  echo "delegate-cgroups: this host is cgroup v2; binding a delegated v2 subtree into a container is not supported yet (docs/containers.md, cgroup v2)" >&2
  exit 1
fi
for c in memory pids cpu cpuacct; do
  # the hierarchy carrying controller c (cpu and cpuacct may be co-mounted)
  mp=$(awk -v c="$c" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/mounts)
  [ -n "$mp" ] || { echo "delegate-cgroups: the cgroup v1 controller $c is not mounted" >&2; exit 1; }
  d=$mp/$name
  mkdir -p "$d"
  chown "$uid:$uid" "$d"
  find "$d" -maxdepth 1 -type f -exec chown "$uid:$uid" {} +
  echo "delegate-cgroups: $d -> $uid"
done
