#!/bin/bash
# Warren in a real container runtime on a pure cgroup v2 kernel: rootless
# podman with crun in the cgroup v2 VM (../shared/tools/cgv2-vm.sh), the
# checks in test/containers/podman-cgv2-inside.sh. About 2 minutes (the VM is
# emulated).
# usage: sudo test/containers/run-podman-cgv2.sh   (`npm run test:container-v2`; scripts/test-all.sh runs it)
# Needs: root, qemu-system-x86 busybox-static (the VM), podman crun uidmap (the
# host's /usr is the VM's), a built checkout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
vm=$repo/../shared/tools/cgv2-vm.sh
[ -f "$vm" ] || { echo "run-podman-cgv2: $vm is missing" >&2; exit 1; }
for c in podman crun; do command -v "$c" >/dev/null || { echo "run-podman-cgv2: $c is missing: apt-get install -y podman crun uidmap" >&2; exit 1; }; done
VM_TIMEOUT=${VM_TIMEOUT:-900} bash "$vm" "$repo" 'sh test/containers/podman-cgv2-inside.sh' | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g'
