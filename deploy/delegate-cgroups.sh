#!/bin/bash
# Gives one Warren container its own cgroup directories on the host, once, as
# root, owned by HOST_UID: the host uid that is Warren's uid 10000 inside the
# container (10000 under rootful podman or Docker; under rootless podman the
# user's first subordinate uid + 9999: `podman unshare` shows the map).
#
# cgroup v1: /sys/fs/cgroup/<controller>/NAME for memory, pids, cpu and
# cpuacct. The container gets them bound read-write over its own cgroup mounts:
#   -v /sys/fs/cgroup/memory/NAME:/sys/fs/cgroup/memory:rw  (and pids, cpu, cpuacct)
#   -e WARREN_CGROUP_ROOT=/
#
# cgroup v2: /sys/fs/cgroup/NAME, memory, pids and cpu enabled for its
# children. The container runtime puts the container's own cgroup in it and
# Warren makes its executions' beside that, so the kernel's rule for moving a
# process (write access to the common ancestor's cgroup.procs) is met by NAME
# (docs/containers.md, *Docker on cgroup v2*):
#   --cgroup-parent=/NAME --cgroupns=host -v /sys/fs/cgroup/NAME:/sys/fs/cgroup/NAME:rw
#   -e WARREN_CGROUP_ROOT=/sys/fs/cgroup/NAME
# (Docker with its cgroupfs driver; the systemd driver takes only slices.)
#
# usage: sudo deploy/delegate-cgroups.sh NAME [HOST_UID]      (HOST_UID default 10000)
#
# One directory per Warren container, never shared: at start-up Warren removes
# (and kills) per-execution cgroups whose launcher pid is not alive, and a
# launcher of another container is not visible in this one's pid namespace.
# Each step is idempotent. What it does is what `warren setup-cgroups --user`
# does on a host (src/sandbox/cgroup/v1.ts and v2.ts, delegate()).
set -euo pipefail
name=${1:?usage: sudo $0 NAME [HOST_UID]}
uid=${2:-10000}
# NAME is one new directory of each hierarchy: never . or .., never a cgroup systemd or a runtime owns
[[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || { echo "delegate-cgroups: NAME must be letters, digits, . _ - and start with a letter, digit or _" >&2; exit 2; }
case $name in
  *.slice | *.scope | *.service | *.socket | *.mount | *.swap | *.target)
    echo "delegate-cgroups: $name is a systemd unit's name, and systemd owns such cgroups: pick another NAME (e.g. warren-1)" >&2; exit 2 ;;
esac
[[ $uid =~ ^[0-9]+$ ]] || { echo "delegate-cgroups: HOST_UID must be a number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "delegate-cgroups: run as root" >&2; exit 1; }
# A directory that exists, is not HOST_UID's yet and holds processes or cgroups is someone else's
# (Docker's cgroupfs /docker, the kubelet's /kubepods, a service's): never given away.
refuse_foreign() {
  local d=$1
  [ -d "$d" ] && [ "$(stat -c %u "$d")" != "$uid" ] || return 0
  if [ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] || [ -n "$(find "$d" -mindepth 1 -maxdepth 1 -type d -print -quit)" ]; then
    echo "delegate-cgroups: $d already holds processes or cgroups of someone else's: pick another NAME" >&2
    exit 1
  fi
}
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  m=/sys/fs/cgroup
  d=$m/$name
  refuse_foreign "$d"
  for c in memory pids cpu; do
    grep -qw "$c" $m/cgroup.controllers || { echo "delegate-cgroups: the cgroup v2 controller $c is not available" >&2; exit 1; }
    grep -qw "$c" $m/cgroup.subtree_control || echo "+$c" > $m/cgroup.subtree_control
  done
  mkdir -p "$d"
  for c in memory pids cpu; do grep -qw "$c" "$d/cgroup.subtree_control" || echo "+$c" > "$d/cgroup.subtree_control"; done
  # the directory and the files a delegatee writes (the kernel's cgroup v2 delegation: cgroup.procs, cgroup.threads, cgroup.subtree_control)
  chown "$uid:$uid" "$d" "$d/cgroup.procs" "$d/cgroup.threads" "$d/cgroup.subtree_control"
  echo "delegate-cgroups: $d -> $uid (memory, pids, cpu for its children)"
  exit 0
fi
dirs=()
for c in memory pids cpu cpuacct; do
  # the hierarchy carrying controller c (cpu and cpuacct may be co-mounted)
  mp=$(awk -v c="$c" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/mounts)
  [ -n "$mp" ] || { echo "delegate-cgroups: the cgroup v1 controller $c is not mounted" >&2; exit 1; }
  refuse_foreign "$mp/$name"   # every hierarchy checked before any is changed
  dirs+=("$mp/$name")
done
for d in "${dirs[@]}"; do
  mkdir -p "$d"
  chown "$uid:$uid" "$d"
  find "$d" -maxdepth 1 -type f -exec chown "$uid:$uid" {} +
  echo "delegate-cgroups: $d -> $uid"
done
