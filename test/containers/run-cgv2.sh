#!/bin/bash
# Warren in real container runtimes on a pure cgroup v2 kernel, in the cgroup
# v2 VM (../shared/tools/cgv2-vm.sh), one boot per runtime:
#   podman  podman with crun, rootless and then rootful with a user namespace
#           of its own (--uidmap, a hostUsers: false pod's shape), Warren as
#           the container's root taking over the container's own cgroup
#           (test/containers/podman-cgv2-inside.sh)
#   docker  Docker 20.10 with runc, Warren as uid 10000 in a cgroup parent
#           delegated on the host (test/containers/docker-cgv2-inside.sh)
# About 3.5 minutes for podman (rootless, then rootful with --uidmap), 3.5 for
# Docker (the VM is emulated).
# usage: sudo test/containers/run-cgv2.sh [podman|docker|all]   (default all;
#        `npm run test:container-v2`; scripts/test-all.sh runs it)
# Needs: root, qemu-system-x86 busybox-static (the VM), podman crun uidmap
# docker.io (the host's /usr is the VM's), a built checkout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
vm=$repo/../shared/tools/cgv2-vm.sh
[ -f "$vm" ] || { echo "run-cgv2: $vm is missing" >&2; exit 1; }
which=${1:-all}
case $which in
  podman) runtimes=(podman) ;; docker) runtimes=(docker) ;; all) runtimes=(podman docker) ;;
  *) echo "usage: $0 [podman|docker|all]" >&2; exit 2 ;;
esac
need() { command -v "$1" >/dev/null || { echo "run-cgv2: $1 is missing: apt-get install -y $2" >&2; exit 1; }; }
failed=()
for runtime in "${runtimes[@]}"; do
  case $runtime in
    podman) need podman "podman crun uidmap"; need crun "podman crun uidmap" ;;
    docker) need dockerd docker.io; need runc docker.io ;;
  esac
  echo "== run-cgv2: $runtime"
  VM_TIMEOUT=${VM_TIMEOUT:-900} bash "$vm" "$repo" "sh test/containers/$runtime-cgv2-inside.sh" | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' || failed+=("$runtime")
done
[ ${#failed[@]} -eq 0 ] || { echo "run-cgv2: FAILED: ${failed[*]}"; exit 1; }
echo "run-cgv2: ${runtimes[*]}: every check passed"
