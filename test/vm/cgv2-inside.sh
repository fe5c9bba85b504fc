#!/bin/sh
# Runs INSIDE the cgroup-v2 VM (see run-cgv2.sh, which starts it through
# ../shared/tools/cgv2-vm.sh), as root, cwd = the project (/proj, shared over 9p).
#
# 1. Delegates a cgroup v2 subtree to `nobody` the way an administrator (or
#    `warren setup-cgroups`) would: /sys/fs/cgroup/warren with memory, pids and
#    cpu enabled, owned by nobody, plus a leaf warren/supervisor that holds the
#    test runner. The runner must sit inside the delegated subtree before it
#    drops to nobody: on v2, moving a process between cgroups needs write access
#    to cgroup.procs of their common ancestor (here: warren, owned by nobody).
# 2. Proves the delegation with plain shell (no Warren code): nobody makes a
#    cgroup, sets limits, moves a process in, removes it; user namespaces and
#    overlayfs in a user namespace work.
# 3. Runs the given vitest filters (default: the sandbox and launcher suites, the cgroup
#    contract suite and the cgroup refusals) as nobody, with no capabilities, node from the host's /usr.
#
# Busybox sh: keep it POSIX. Exit status: 0 only when every part passed.
set -u
# The VM's / is the initramfs (rootfs), and pivot_root(2) refuses to move a root
# that is rootfs (EINVAL: "not attached"), so every container's pivot_root would
# fail here, never on a real host. Do what switch_root does: a bind of / moved
# on top of /, then chroot into it. (A plain chroot would not do: unshare of a
# user namespace fails with EPERM in a chroot that is not the mount ns's root.)
if [ "${CGV2_REROOTED:-}" != 1 ] && [ "$(awk '$5 == "/" { print $9; exit }' /proc/self/mountinfo)" = rootfs ]; then
  mkdir -p /newroot && mount -o rbind / /newroot && cd /newroot && mount -o move . / \
    && exec chroot . /bin/sh -c 'cd /proj && CGV2_REROOTED=1 exec sh test/vm/cgv2-inside.sh "$@"' sh "$@"
  echo "cgv2-inside: could not re-root off the initramfs; pivot_root will fail"
fi
ROOT=/sys/fs/cgroup
W=$ROOT/warren
U=nobody G=nogroup
TMP=/tmp                      # tmpfs in the VM; /proj (9p) is not writable by nobody
FAILED=""
fail() { echo "cgv2-inside: FAIL: $*"; FAILED="$FAILED $1"; }

# The VM's minimal root has no /etc/hosts and its loopback is down: vitest (vite)
# resolves "localhost", and sandboxes may bring up their own loopback.
[ -s /etc/hosts ] || printf '127.0.0.1 localhost\n::1 localhost\n' > /etc/hosts
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

dmesg -n 1 2>/dev/null    # keep kernel messages (OOM kills of tests' memory hogs) off the console
# The host's /etc entries that /usr and the host image need (run-cgv2.sh packs them)
[ -f .vm/host-etc.tar ] && tar -C / -xf .vm/host-etc.tar

echo "=== cgv2 VM: kernel $(uname -r), node $(/usr/bin/node --version), $(nproc) cpus, controllers: $(cat $ROOT/cgroup.controllers)"

# --- 1. delegation -----------------------------------------------------------
# First with `warren setup-cgroups` (so its v2 code meets a real v2 kernel), then
# checked from shell; when it did not do it all, the same steps in shell, so the
# suites still run (and the run fails).
delegated() {
  [ "$(stat -c %U $W 2>/dev/null)" = $U ] && [ "$(stat -c %U $W/cgroup.procs)" = $U ] \
    && [ "$(stat -c %U $W/supervisor/cgroup.procs 2>/dev/null)" = $U ] \
    && for c in memory pids cpu; do grep -qw $c $W/cgroup.subtree_control || return 1; done
}
setup() {
  echo "+memory +pids +cpu" > $ROOT/cgroup.subtree_control || return 1
  mkdir -p $W || return 1
  # warren itself holds no process, so its children may get controllers
  echo "+memory +pids +cpu" > $W/cgroup.subtree_control || return 1
  chown $U:$G $W $W/cgroup.procs $W/cgroup.subtree_control $W/cgroup.threads || return 1
  mkdir -p $W/supervisor || return 1
  chown $U:$G $W/supervisor $W/supervisor/cgroup.procs $W/supervisor/cgroup.subtree_control \
    $W/supervisor/cgroup.threads || return 1
}
if [ -f dist/cli/main.js ] && WARREN_CGROUP_ROOT=$W /usr/bin/node bin/warren.js setup-cgroups --user $U && delegated; then
  echo "=== warren setup-cgroups delegated $W to $U"
else
  fail setup-cgroups "warren setup-cgroups --user $U did not delegate $W (doing it in shell)"
  setup || fail delegation "could not delegate $W to $U"
fi
# this shell (and so everything it starts, su and vitest included) moves in now,
# as root: afterwards only moves inside $W are allowed, and nobody may make them
echo $$ > $W/supervisor/cgroup.procs || fail delegation "could not enter $W/supervisor"
echo "=== $W: owner $(stat -c %U $W), subtree_control: $(cat $W/cgroup.subtree_control); runner in $(cat /proc/self/cgroup)"

# --- 2. smoke: what the sandbox needs, without Warren's code ------------------
su $U -s /bin/sh -c '
  set -e
  W='"$W"'
  echo "smoke: $(id)"; grep -E "^Cap(Prm|Eff)" /proc/self/status | tr "\n" " "; echo
  c=$W/smoke-$$; mkdir $c
  echo 16M > $c/memory.max; echo 0 > $c/memory.swap.max; echo 8 > $c/pids.max; echo "50000 100000" > $c/cpu.max
  sh -c "echo \$\$ > $c/cgroup.procs; exec true"
  echo "smoke: cgroup $c: memory.peak=$(cat $c/memory.peak) events: $(tr "\n" " " < $c/memory.events)"
  rmdir $c
  unshare -Urmnpf --mount-proc sh -c "
    mkdir -p /tmp/smoke-o/l /tmp/smoke-o/u /tmp/smoke-o/w
    mount -t tmpfs -o size=1m t /tmp/smoke-o/u && mkdir /tmp/smoke-o/u/up /tmp/smoke-o/u/wk
    mount -t overlay o -o lowerdir=/usr,upperdir=/tmp/smoke-o/u/up,workdir=/tmp/smoke-o/u/wk /tmp/smoke-o/l
    echo smoke: userns uid \$(id -u), overlay on 9p lower ok"
' || fail smoke "rootless smoke test (cgroup delegation / userns / overlay) failed"

# --- 2b. the launcher alone (docs/launcher.md), rootless, limits in a fresh cgroup --
L=src/sandbox/native/build/warren-launch
if [ -x "$L" ]; then
  su $U -s /bin/sh -c '
    set -e
    r=$(mktemp -d /tmp/launch-smoke.XXXXXX); mkdir -p $r/root/usr $r/root/etc
    for d in bin lib lib64 sbin; do ln -s usr/$d $r/root/$d; done
    rc=0
    /proj/'"$L"' --rootfs $r/root --ro-bind /usr /usr --cgroup '"$W"' --memory-mb 64 --pids 32 --cpus 1 \
      --wall-ms 30000 --env PATH=/usr/bin:/bin --status-fd 3 -- sh -c "echo launcher: hello from uid \$(id -u) in \$(cat /proc/self/cgroup)" \
      3>$r/status || rc=$?
    echo "launcher: exit $rc, status $(cat $r/status)"
    rm -rf $r
    [ $rc = 0 ]
  ' || fail launcher "warren-launch one-shot with cgroup limits failed as $U"
else
  echo "=== launcher not built ($L): skipping its smoke test"
fi

# --- 3. the suites, as nobody --------------------------------------------------
# Under software emulation gcc takes ~12 s for hello.c and python ~2 s to start
# (50-100x the host), so the language table's default limits cannot hold; the
# suites that compile programs in every language or test the worker's own
# judging (languages, start-failures, output-budget, and the judge programs,
# checker programs, interactive problems, scoring and job events of issue 12,
# which compile C, C++ and Java; javac aborts under emulation) do not depend on
# the cgroup version and run on the host (rootless and as root). Everything
# else that runs sandboxes runs here, the streamed executions included.
if [ "$#" -eq 0 ]; then
  for f in test/sandbox test/launcher src/sandbox/cgroup test/faults/cgroup-refusals.test.ts; do [ -e "$f" ] && set -- "$@" "$f"; done
  [ "$#" -eq 0 ] || set -- --exclude '**/languages.test.ts' --exclude '**/start-failures.test.ts' --exclude '**/output-budget.test.ts' \
    --exclude '**/judge-program.test.ts' --exclude '**/checker-program.test.ts' --exclude '**/interactive.test.ts' \
    --exclude '**/scoring.test.ts' --exclude '**/job-events.test.ts' "$@"
fi
if [ "$#" -eq 0 ]; then
  fail suites "no test files: none of test/sandbox, test/launcher, src/sandbox/cgroup exists"
else
  echo "=== vitest as $U: $*"
  q=""; for a in "$@"; do q="$q '$a'"; done   # quoted again for su's shell
  t0=$(date +%s)
  # --configLoader runner: vite's default loader writes a bundled copy of
  # vitest.config.ts next to it, and /proj is not writable by nobody.
  # Output goes through a pipe so that vitest does not see the serial console
  # as a terminal (no cursor games in the log).
  { su $U -s /bin/sh -c "cd /proj && exec env -i PATH=/usr/bin:/bin HOME=$TMP TMPDIR=$TMP CI=true NO_COLOR=1 \
      WARREN_CGROUP_ROOT=$W WARREN_DATA_DIR=$TMP/warren-data WARREN_TEST_ENV=cgv2-vm WARREN_TEST_TIME_SCALE=${WARREN_TEST_TIME_SCALE:-10} \
      /usr/bin/node node_modules/vitest/vitest.mjs run --configLoader runner$q" 2>&1
    echo $? > $TMP/vitest.rc; } | cat
  rc=$(cat $TMP/vitest.rc)
  echo "=== vitest in the VM: exit $rc after $(( $(date +%s) - t0 )) s"
  [ "$rc" = 0 ] || fail vitest "vitest exited $rc"
fi

# --- leftovers: nothing of a test may outlive it -------------------------------
leftovers() { (cd $W && for d in */; do [ "$d" = "supervisor/" ] || [ "$d" = "*/" ] || printf '%s ' "${d%/}"; done); }
# a launcher whose test process has just exited may still be removing its cgroup: a few seconds' grace
left=$(leftovers); waited=0
while [ -n "$left" ] && [ "$waited" -lt 10 ]; do sleep 1; waited=$((waited + 1)); left=$(leftovers); done
[ "$waited" = 0 ] || [ -n "$left" ] || echo "=== cgroups of the run were gone $waited s after it ended"
[ -z "$left" ] || fail leftovers "cgroups left under $W: $left"

if [ -n "$FAILED" ]; then echo "=== cgv2 VM: FAILED:$FAILED"; exit 1; fi
echo "=== cgv2 VM: all passed"
