#!/bin/bash
# Writes deploy/warren.json, the seccomp profile to run Warren in a container:
# the container ecosystem's default profile (Debian 12's /usr/share/containers/seccomp.json
# from containers-common 0.50.1, installed with podman: podman's default, itself Docker's
# default made a little wider) plus exactly the syscalls Warren's launcher needs
# without CAP_SYS_ADMIN, one rule each, its comment naming the launcher steps
# (src/sandbox/native/steps.h) that call it.
#
# usage: scripts/seccomp-profile.sh [BASE.json] > deploy/warren.json
#
# Warren's rules go FIRST: where a profile has several rules for one syscall,
# runc (libseccomp) keeps the first and ignores the later ones; the default
# denies sethostname, setns & co. further down to a container without
# CAP_SYS_ADMIN, so rules appended after those would never take effect.
# test/containers/seccomp-profile.test.ts checks the result: the base's rules
# unchanged and in order, and only these before them.
set -euo pipefail
base=${1:-/usr/share/containers/seccomp.json}
[ -r "$base" ] || { echo "seccomp-profile.sh: $base is not there: apt-get install podman (containers-common), or name the default profile to start from" >&2; exit 1; }
rule() {   # rule SYSCALL COMMENT
  jq -n --arg name "$1" --arg comment "warren: $2" \
    '{names: [$name], action: "SCMP_ACT_ALLOW", args: [], comment: $comment, includes: {}, excludes: {}}'
}
added=$({
  rule clone "clone-namespaces: the container's first process in new user, mount, pid, ipc and uts namespaces; zygote-fork: a function zygote's child in its own namespaces (Docker's default allows clone only without namespace flags)"
  rule unshare "unshare-net: the network namespace; cgroup-namespace, ipc-namespace: the program's own; zygote-userns, zygote-namespaces: a function zygote's"
  rule mount "mount-private, mount-scratch, mount-overlay, bind, mount-dev, dev-node, bind-shm, remount-dev-ro, mount-proc, mask-proc, proc-sys-ro, bind-workdir, bind-tmp: the container's root and its mounts, inside its own user and mount namespaces"
  rule umount2 "umount-oldroot: the host's tree let go after pivot_root"
  rule pivot_root "pivot-root: into the container's overlay root"
  rule setns "setns-net: the container's init enters the network namespace made for it"
  rule sethostname "sethostname: the container's own hostname, in its own uts namespace"
} | jq -s .)
jq --tab --argjson added "$added" '.syscalls = ($added + .syscalls)' "$base"
