#!/bin/bash
# Runs the cgroup-v2 part of the test suite inside a small VM (pure cgroup v2,
# Debian's kernel under qemu) through ../shared/tools/cgv2-vm.sh, which shares
# this checkout at /proj and the host's /usr (so node and the built launcher
# work inside). The VM side is test/vm/cgv2-inside.sh: it delegates a cgroup
# subtree to `nobody` and runs the sandbox and cgroup suites as nobody.
#
# usage: test/vm/run-cgv2.sh [VITEST FILTER...]     (as root; `npm run test:vm`)
# env:   WARREN_SHARED_DIR  where cgv2-vm.sh lives (default: <repo>/../shared)
#        VM_TIMEOUT         seconds before the VM is killed (default 3000 here:
#                           software emulation runs gcc, python and node 10-100x slower than the host,
#                           and the suite's 15-16 minutes took 26 on another machine of the same kind)
# Exit status: the VM's (125 when it never reported one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
shared=${WARREN_SHARED_DIR:-$repo/../shared}
vm=$shared/tools/cgv2-vm.sh
if [ ! -f "$vm" ]; then
  echo "run-cgv2: $vm not found: the shared dir must sit beside the checkout (or set WARREN_SHARED_DIR)" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then echo "run-cgv2: run as root (qemu, apt-get download of the kernel)" >&2; exit 2; fi
for cmd in qemu-system-x86_64 busybox; do
  command -v "$cmd" >/dev/null || { echo "run-cgv2: $cmd missing: apt-get install -y --no-install-recommends qemu-system-x86 busybox-static" >&2; exit 2; }
done
if [ ! -x "$repo/src/sandbox/native/build/warren-launch" ]; then
  echo "run-cgv2: warning: src/sandbox/native/build/warren-launch is not built (npm run build)" >&2
fi
# the VM's user `nobody` must be able to read the checkout (9p passes modes through)
if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$repo/package.json" 2>/dev/null; then
  echo "run-cgv2: warning: $repo is not readable by uid 65534; the VM's nobody will fail" >&2
fi
# The VM gets the host's /usr but not its /etc, and much of /usr points into
# /etc (/usr/bin/cc, java, javac -> /etc/alternatives/...). Hand the VM the /etc
# entries that the host image binds into sandboxes (images/host/image.json),
# in a gitignored dir of the checkout; cgv2-inside.sh unpacks them.
mkdir -p "$repo/.vm"
etc=$(node -e 'for (const b of require(process.argv[1]).rootfs.binds) if (b.source.startsWith("/etc/")) console.log(b.source.slice(1))' \
  "$repo/images/host/image.json" 2>/dev/null) || etc=""
[ -n "$etc" ] || etc="etc/alternatives etc/ld.so.cache etc/ssl/certs"
existing=(); for e in $etc; do [ -e "/$e" ] && existing+=("$e"); done
tar -C / -cf "$repo/.vm/host-etc.tar" "${existing[@]}"
export VM_TIMEOUT=${VM_TIMEOUT:-3000}
args=""
for a in "$@"; do args="$args '${a//\'/}'"; done
echo "run-cgv2: booting the cgroup v2 VM ($vm) on $repo"
start=$(date +%s)
set +e
# The VM's console is a serial line: drop its CRs and the firmware's screen resets.
bash "$vm" "$repo" "sh test/vm/cgv2-inside.sh$args" | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g'
rc=${PIPESTATUS[0]}
set -e
echo "run-cgv2: VM exit status $rc after $(( $(date +%s) - start )) s"
exit "$rc"
