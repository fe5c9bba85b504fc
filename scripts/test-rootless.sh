#!/bin/bash
# The rootless proof on this host's cgroups (v1 here; v2 works the same way
# wherever /sys/fs/cgroup is cgroup2): runs the sandbox suite and the cgroup
# suite as an unprivileged user with no capabilities at all, in a cgroup
# subtree that root delegated to it once.
#
# usage: sudo scripts/test-rootless.sh [VITEST FILTER...]   (`npm run test:rootless`)
#   default filters: test/sandbox test/launcher test/functions src/sandbox/cgroup
#   test/cli/doctor-in-container.test.ts test/faults/cgroup-refusals.test.ts (those that exist)
#
# The test identity is a dedicated system user, `warren-test` (made here if
# missing), not `nobody`: the delegation gives it cgroup directories and a data
# dir, and `nobody` must own no files, nor should every other daemon that runs
# as nobody share our cgroups. (The VM run, test/vm/, uses nobody: that VM lives
# for one test run and has no other users.)
#
# What it proves: the suite runs with uid != 0 and empty permitted, effective,
# inheritable, ambient and bounding capability sets (setpriv), so anything the
# sandbox does comes from unprivileged user namespaces and the delegated cgroups.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
U=${WARREN_TEST_USER:-warren-test}
CG_ROOT=${WARREN_TEST_CGROUP_ROOT:-/$U}        # on v1: a path inside each hierarchy
say() { echo "test-rootless: $*"; }
die() { echo "test-rootless: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it creates the test user and delegates cgroups): sudo $0"

# --- the identity ---------------------------------------------------------------
if ! getent passwd "$U" >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$U"
  say "made system user $U"
fi
uid=$(id -u "$U"); gid=$(id -g "$U")

# --- a temp dir it owns: HOME, TMPDIR (vitest's cache), WARREN_DATA_DIR ------------
T=$(mktemp -d /tmp/warren-rootless.XXXXXX)
mkdir -p "$T/home" "$T/tmp" "$T/data"
chown -R "$uid:$gid" "$T"
chmod 755 "$T"
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }

# --- the checkout must be readable by the user (some CIs clone under a 0700 home) -
src=$repo
launcher=src/sandbox/native/build/warren-launch
[ -x "$repo/$launcher" ] && [ -f "$repo/node_modules/vitest/vitest.mjs" ] \
  || die "not built: $launcher or node_modules missing (npm ci)"
if ! as_user sh -c "test -r '$repo/package.json' && test -r '$repo/node_modules/vitest/vitest.mjs' && test -x '$repo/$launcher'" 2>/dev/null; then
  say "$repo is not readable by $U:"; namei -l "$repo" || true
  say "copying the checkout to $T/checkout"
  mkdir "$T/checkout"
  tar -C "$repo" --exclude=./.git -cf - . | tar -C "$T/checkout" -xf -
  chown -R root:root "$T/checkout"; chmod -R go+rX,go-w "$T/checkout"
  src=$T/checkout
fi
node=$(command -v node) || die "node not found"
as_user test -x "$node" || die "$node is not executable by $U (node installed under a private home?)"

# --- the delegation ----------------------------------------------------------------
# `warren setup-cgroups --user U` does it (and is tested by doing it). When it
# fails, the same steps are done in shell so the suites still run, and this
# script fails at the end.
setup_failed=0
delegated() {   # every controller directory exists and belongs to U
  local c d
  if is_v2; then
    d=/sys/fs/cgroup$CG_ROOT
    [ "$(stat -c %u "$d" 2>/dev/null)" = "$uid" ] && [ "$(stat -c %u "$d/supervisor/cgroup.procs" 2>/dev/null)" = "$uid" ] \
      && grep -qw memory "$d/cgroup.subtree_control" && grep -qw pids "$d/cgroup.subtree_control" && grep -qw cpu "$d/cgroup.subtree_control"
  else
    for c in memory pids cpu cpuacct; do
      d=$(cgroup_v1_dir "$c") || return 1
      [ "$(stat -c %u "$d" 2>/dev/null)" = "$uid" ] && [ "$(stat -c %u "$d/cgroup.procs" 2>/dev/null)" = "$uid" ] || return 1
    done
  fi
}
is_v2() { [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; }
cgroup_v1_dir() {   # the hierarchy mount carrying controller $1 (cpu and cpuacct may be co-mounted)
  local mp
  mp=$(awk -v c="$1" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/mounts)
  [ -n "$mp" ] && echo "$mp$CG_ROOT"
}
if WARREN_CGROUP_ROOT=$CG_ROOT "$node" "$src/bin/warren.js" setup-cgroups --user "$U" && delegated; then
  say "delegated $CG_ROOT to $U with warren setup-cgroups"
else
  setup_failed=1
  say "FAIL: warren setup-cgroups --user $U did not delegate $CG_ROOT; doing it in shell to run the suites anyway"
  if is_v2; then
    # a subtree with the controllers enabled, plus the runner's own leaf (see test/vm/cgv2-inside.sh)
    d=/sys/fs/cgroup$CG_ROOT
    mkdir -p "$d/supervisor"
    echo "+memory +pids +cpu" > "$d/cgroup.subtree_control"
    chown "$uid:$gid" "$d" "$d"/cgroup.{procs,subtree_control,threads} "$d/supervisor" "$d"/supervisor/cgroup.{procs,subtree_control,threads}
  else
    for c in memory pids cpu cpuacct; do
      d=$(cgroup_v1_dir "$c") || die "cgroup v1 controller $c is not mounted"
      mkdir -p "$d"
      chown "$uid:$gid" "$d"; find "$d" -maxdepth 1 -type f -exec chown "$uid:$gid" {} +
    done
  fi
  delegated || die "could not delegate $CG_ROOT to $U"
fi

# --- the run ---------------------------------------------------------------------
if [ "$#" -eq 0 ]; then
  for f in test/sandbox test/launcher test/functions src/sandbox/cgroup test/cli/doctor-in-container.test.ts test/faults/cgroup-refusals.test.ts; do [ -e "$src/$f" ] && set -- "$@" "$f"; done
fi
[ "$#" -gt 0 ] || die "no sandbox tests found (test/sandbox, test/launcher, src/sandbox/cgroup)"
say "running as $U ($uid:$gid) in $src: vitest $*  (WARREN_CGROUP_ROOT=$CG_ROOT, WARREN_DATA_DIR=$T/data)"
rc=0
# --configLoader runner: vite's default config loader writes a bundled copy of
# vitest.config.ts beside it (or in node_modules/.vite-temp), and the checkout
# is root's. The vitest cache goes to TMPDIR (vitest.config.ts).
(cd "$src"
 if is_v2; then
   # v2: the runner moves into the delegated subtree while still root (moving
   # between cgroups needs write access to their common ancestor's cgroup.procs)
   echo "$BASHPID" > "/sys/fs/cgroup$CG_ROOT/supervisor/cgroup.procs"
 fi
 as_user env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" \
  USER="$U" LOGNAME="$U" LANG=C.UTF-8 ${CI:+CI="$CI"} \
  WARREN_CGROUP_ROOT="$CG_ROOT" WARREN_DATA_DIR="$T/data" WARREN_TEST_ENV=rootless \
  sh -c '
    set -e
    echo "test-rootless: $(id)"
    grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status | tr "\t\n" "  "; echo
    [ "$(id -u)" != 0 ] || { echo "test-rootless: still uid 0" >&2; exit 1; }
    ! grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status | grep -qv "0000000000000000" \
      || { echo "test-rootless: capabilities left" >&2; exit 1; }
    exec "$0" node_modules/vitest/vitest.mjs run --configLoader runner "$@"' "$node" "$@") || rc=$?

# --- nothing may outlive a test: no cgroup left behind -----------------------------
if is_v2; then dirs=/sys/fs/cgroup$CG_ROOT
else dirs=$(for c in memory pids cpu cpuacct; do cgroup_v1_dir "$c"; done | sort -u); fi
leftovers() {
  local d c
  for d in $dirs; do
    for c in "$d"/*/; do
      [ -d "$c" ] && [ "$(basename "$c")" != supervisor ] && printf ' %s' "${c%/}"
    done
  done
  return 0
}
# a launcher whose test process has just exited may still be removing its cgroups: a few seconds' grace,
# said when it was needed; what is still there then is a leftover
left=$(leftovers); waited=0
while [ -n "$left" ] && [ "$waited" -lt 10 ]; do sleep 1; waited=$((waited + 1)); left=$(leftovers); done
[ "$waited" = 0 ] || [ -n "$left" ] || say "cgroups of the run were gone ${waited} s after it ended"
for c in $left; do rmdir "$c" 2>/dev/null || true; done   # a leftover with live processes stays for a person to see
if [ -n "$left" ]; then
  say "FAIL: cgroups left behind after the run:$left"
  [ "$rc" != 0 ] || rc=1
fi
if [ "$setup_failed" = 1 ]; then
  say "FAIL: warren setup-cgroups (see above)"
  [ "$rc" != 0 ] || rc=1
fi
rm -rf "$T"
say "exit $rc"
exit "$rc"
