# Sourced, first thing, by test/containers/*-cgv2-inside.sh (inside the cgroup
# v2 VM, as root, cwd = the project): re-roots off the initramfs (pivot_root(2)
# refuses it as a root: see test/vm/cgv2-inside.sh) by running SCRIPT again from
# a real mount, then gives the checks' helpers (ok, fail, the list FAILED) and
# refuses an unbuilt checkout. Needs PREFIX (the lines' prefix) and SCRIPT.
# Busybox sh: keep it POSIX.
if [ "${CGV2_REROOTED:-}" != 1 ] && [ "$(awk '$5 == "/" { print $9; exit }' /proc/self/mountinfo)" = rootfs ]; then
  mkdir -p /newroot && mount -o rbind / /newroot && cd /newroot && mount -o move . / \
    && exec chroot . /bin/sh -c "cd /proj && CGV2_REROOTED=1 exec sh $SCRIPT"
  echo "$PREFIX: could not re-root off the initramfs"; exit 1
fi
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
FAILED=""
fail() { echo "$PREFIX: FAIL: $*"; FAILED="$FAILED|$1"; }
ok() { echo "$PREFIX: ok: $*"; }
[ -f dist/cli/main.js ] && [ -x src/sandbox/native/build/warren-launch ] || { echo "$PREFIX: not built (npm run build)"; exit 1; }
