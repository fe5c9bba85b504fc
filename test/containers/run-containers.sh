#!/bin/bash
# Warren inside unprivileged containers: podman rootful, podman rootless, and
# Docker (a private dockerd of this test's own): the image
# (scripts/container-image.sh) run with every capability dropped, no
# --privileged, the runtime's /proc masks removed (podman unmask=/proc/*,
# Docker systempaths=unconfined), the seccomp profile deploy/warren.json, the
# delegated cgroup directories bound read-write, and Warren as uid 10000 in
# the container. In each mode:
#   1. `warren doctor`: every item ✓
#   2. `warren serve` in a container, its port published: a C and a Python
#      judge run accepted, a memory bomb killed at its limit, a fork bomb
#      stopped at its processes limit (test/containers/judge-checks.mjs)
#   3. the escape suite's core cases (test/escape: syscalls, files,
#      persistence; resources' fork and memory bombs) run by vitest inside the
#      container, from this checkout bound read-only
#   4. WARREN_BIND_PROC=1 with the runtime's /proc masks (and read-only
#      /proc/sys) left as they are: doctor all ✓, saying what is degraded; a
#      run memory-limited
#   5. rootless only: Warren as the container's root (--user 0, which is the
#      rootless user on the host; with CAP_SETFCAP): doctor all ✓, a run
#      memory-limited
#   6. nothing left behind in the delegated cgroups
#
# usage: sudo test/containers/run-containers.sh [--image FILE] [--mode MODE[,MODE…]]
#        (`npm run test:container`; scripts/test-all.sh runs it)
#   --image FILE  an OCI archive already built by scripts/container-image.sh
#                 (default: build one into a temp dir, about 90 s)
#   --mode        rootful, rootless, docker, or all (the default); `both` is
#                 rootful,rootless (podman only)
# Needs: root, podman and runc (Debian: apt-get install podman runc uidmap),
# for docker Debian's docker.io and skopeo, mmdebstrap and jq to build the
# image. `--runtime runc`: on this cgroup v1 hybrid host crun is not what
# podman should use. The docker mode starts its own dockerd (its own socket,
# data and exec roots under a temp dir, no iptables rules, no bridge; the API
# container on the host's network) and stops it at the end: a Docker the host
# already runs is neither used nor touched.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
say() { echo "test-container: $*"; }
die() { echo "test-container: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it builds the image, makes a rootless user and delegates cgroups): sudo $0"

image=""
modes="rootful rootless docker"
while [ "$#" -gt 0 ]; do
  case $1 in
    --image) image=$(realpath "$2"); shift 2 ;;
    --mode)
      case $2 in
        all) ;;
        both) modes="rootful rootless" ;;
        *) modes=${2//,/ }
           for m in $modes; do case $m in rootful|rootless|docker) ;; *) die "--mode takes rootful, rootless, docker (comma-separated), both or all" ;; esac; done ;;
      esac
      shift 2 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [[ " $modes " == *" rootful "* || " $modes " == *" rootless "* ]]; then
  command -v podman >/dev/null || die "podman is missing: apt-get install -y podman runc uidmap (or --mode docker)"
  command -v runc >/dev/null || die "runc is missing: apt-get install -y runc"
fi
if [[ " $modes " == *" docker "* ]]; then
  command -v dockerd >/dev/null || die "dockerd is missing: apt-get install -y docker.io (or --mode rootful,rootless)"
  command -v skopeo >/dev/null || die "skopeo is missing (it loads the OCI archive into Docker): apt-get install -y skopeo"
fi
[ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || die "this test delegates cgroup v1 hierarchies; on a pure cgroup v2 host see docs/containers.md"

RU=${WARREN_CONTAINER_TEST_USER:-warren-podman}   # the rootless podman user
CG=/warren-podman                                   # the delegated subtree, inside each v1 hierarchy
CONTROLLERS="memory pids cpu cpuacct"
APP_UID=10000                                       # Warren's uid in the image
T=$(mktemp -d /tmp/warren-podman.XXXXXX)
chmod 755 "$T"
started=()                                          # "MODE NAME" of every container started here
run_as_user() { setpriv --reuid="$ru_uid" --regid="$ru_gid" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME="$T/rootless-home" XDG_RUNTIME_DIR="$T/rootless-run" XDG_CONFIG_HOME="$T/rootless-home/.config" LANG=C.UTF-8 "$@"; }
DOCKER_HOST_SOCK=unix://$T/docker.sock
pm() {   # pm MODE ARGS...: podman as root or as the rootless user, or this test's dockerd
  local mode=$1
  shift
  case $mode in
    rootful) podman --runtime runc --cgroup-manager cgroupfs --events-backend file "$@" ;;
    rootless) (cd "$T" && run_as_user podman --runtime runc --cgroup-manager cgroupfs --events-backend file "$@") ;;
    docker) docker --host "$DOCKER_HOST_SOCK" "$@" ;;
  esac
}
dockerd_pid=""
start_dockerd() {   # a dockerd of this test's own: nothing of the host's Docker (if any) is used or changed
  local i
  mkdir -p "$T/docker-data" "$T/docker-exec"
  echo '{}' > "$T/docker-daemon.json"   # not /etc/docker/daemon.json: its settings could clash with these flags
  dockerd --config-file "$T/docker-daemon.json" --host "$DOCKER_HOST_SOCK" --data-root "$T/docker-data" \
    --exec-root "$T/docker-exec" --pidfile "$T/docker.pid" --containerd-namespace warren-test \
    --containerd-plugins-namespace warren-test-plugins --iptables=false --ip-forward=false --ip-masq=false \
    --bridge=none > "$T/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for i in $(seq 1 240); do   # up to 2 minutes: a fresh machine's first dockerd may be slow
    docker --host "$DOCKER_HOST_SOCK" version >/dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  tail -20 "$T/dockerd.log"
  return 1
}
stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  kill "$dockerd_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
  dockerd_pid=""
  # what a dockerd killed mid-way could leave mounted under its roots
  grep -o " $T/docker-[a-z]*/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  local entry c
  for entry in "${started[@]}"; do
    if [ "${entry% *}" = docker ]; then pm docker rm -f "${entry#* }" >/dev/null 2>&1 || true
    else pm ${entry% *} rm -f -t 5 "${entry#* }" >/dev/null 2>&1 || true; fi
  done
  stop_dockerd
  [ -d "$T/rootless-home" ] && pm rootless system reset -f >/dev/null 2>&1 || true
  for c in $CONTROLLERS; do rmdir /sys/fs/cgroup/$c$CG/*/ /sys/fs/cgroup/$c$CG 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

# --- the image -----------------------------------------------------------------
if [ -z "$image" ]; then
  image=$T/warren-oci.tar
  bash scripts/container-image.sh --output "$image" --tag warren:test
fi
chmod 644 "$image"
cp deploy/warren.json "$T/warren.json"   # readable by the rootless user wherever the checkout is
# a program that must be killed at a 48 MB memory limit (the checks that run one program, not the judge)
printf 'print("started", flush=True)\nb = b"x" * (200 << 20)\n' > "$T/greedy.py"
chmod 644 "$T/warren.json" "$T/greedy.py"

# --- the rootless user: subordinate ids for its user namespace -----------------------
if ! getent passwd "$RU" >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RU"
  say "made system user $RU"
fi
ru_uid=$(id -u "$RU"); ru_gid=$(id -g "$RU")
if ! grep -q "^$RU:" /etc/subuid || ! grep -q "^$RU:" /etc/subgid; then
  # a range past every one already given out
  start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' /etc/subuid /etc/subgid)
  usermod --add-subuids "$start-$((start + 65535))" --add-subgids "$start-$((start + 65535))" "$RU"
  say "gave $RU subordinate ids $start-$((start + 65535))"
fi
sub_uid=$(awk -F: -v u="$RU" '$1 == u { print $2; exit }' /etc/subuid)
mkdir -p "$T/rootless-home" "$T/rootless-run"
chown "$ru_uid:$ru_gid" "$T/rootless-home" "$T/rootless-run"
chmod 700 "$T/rootless-run"

# --- the checkout the escape suite runs from, readable by Warren's uid in both modes -----
src=$repo
if ! setpriv --reuid=$((sub_uid + APP_UID - 1)) --regid=$((sub_uid + APP_UID - 1)) --clear-groups \
     test -r "$repo/node_modules/vitest/vitest.mjs" 2>/dev/null; then
  say "$repo is not readable by other users: copying it to $T/checkout"
  mkdir "$T/checkout"
  tar -C "$repo" --exclude=./.git -cf - . | tar -C "$T/checkout" -xf -
  chmod -R go+rX,go-w "$T/checkout"
  src=$T/checkout
fi

# this machine's root lacks CAP_SYS_RESOURCE: podman's default limits (nofile
# 1048576) are then refused by the kernel; these are below the hard limits
ULIMITS=(--ulimit "nofile=4096:4096" --ulimit "nproc=4096:4096")
failed=()
check() {   # check MODE NAME COMMAND...: run one check, remember a failure, go on
  local mode=$1 name=$2 start=$SECONDS rc=0
  shift 2
  echo "--- $mode: $name"
  "$@" || rc=$?
  if [ "$rc" = 0 ]; then echo "--- $mode: $name: ok ($((SECONDS - start)) s)"
  else echo "--- $mode: $name: FAILED, exit $rc ($((SECONDS - start)) s)"; failed+=("$mode: $name"); fi
}

doctor() {   # doctor MODE: every item ✓
  local out
  out=$(pm "$1" run --rm --network none "${RUN[@]}" "$IMG" doctor 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  ! grep -q '✗' <<<"$out" && grep -q 'This host can run Warren sandboxes' <<<"$out"
}

judge() {   # judge MODE: the API in a container, judged over HTTP
  local mode=$1 name=warren-test-api-$1-$$ port i
  port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  started+=("$mode $name")
  local net=(-p "127.0.0.1:$port:8080" -e WARREN_HOST=0.0.0.0)
  # rootless podman publishes ports through slirp4netns, which needs /dev/net/tun;
  # where the user may not open it (0600 on this project's machines), the host's network
  if [ "$mode" = rootless ] && ! run_as_user sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
    echo "(/dev/net/tun is not open to $RU: the API container on the host's network)"
    net=(--network host -e WARREN_HOST=127.0.0.1 -e PORT="$port")
  fi
  # this test's dockerd makes no bridge (no iptables rules on the host): the host's network
  [ "$mode" = docker ] && net=(--network host -e WARREN_HOST=127.0.0.1 -e PORT="$port")
  pm "$mode" run -d --name "$name" "${RUN[@]}" "${net[@]}" "$IMG" serve >/dev/null
  for i in $(seq 1 120); do   # its start-up: detecting the host image's languages, the warm pool
    node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$port/readyz" && break
    [ "$(pm "$mode" inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.5
  done
  local rc=0
  node test/containers/judge-checks.mjs "http://127.0.0.1:$port" || rc=$?
  [ "$rc" = 0 ] || pm "$mode" logs "$name" 2>&1 | tail -40
  pm "$mode" stop -t 30 "$name" >/dev/null || rc=1   # SIGTERM: Warren's own shutdown, then tini's exit
  pm "$mode" rm "$name" >/dev/null || true
  return "$rc"
}

escape() {   # escape MODE: the escape suite's core cases, inside the container
  # under tini, as the image runs Warren: a test kills its runner's parent pid, which must not be 1 here
  pm "$1" run --rm --network none "${RUN[@]}" -v "$src:/src:ro" --workdir /src --entrypoint /usr/bin/tini \
    -e CI="${CI:-}" -e WARREN_DATA_DIR=/tmp/warren-test-data "$IMG" \
    -- /usr/bin/node node_modules/vitest/vitest.mjs run --configLoader runner \
    test/escape/syscalls.test.ts test/escape/files.test.ts test/escape/persistence.test.ts test/escape/resources.test.ts \
    -t '^(?!.*kill of \$PPID)(?=.*(forbidden system calls|file paths|links planted|daemons|signals|writes never reach|fork bombs|memory bombs))'
  # left out: "kill of $PPID and of the worker's real pid", which expects the
  # runner's pids not to exist in the sandbox; in a fresh container they are
  # small (6, 7…) and may be the sandbox's own processes' pids by chance
}

as_container_root() {   # as_container_root: rootless podman, Warren as the container's root (--user 0), capabilities dropped
  # That root is the rootless user itself on the host (uid_map 0 → $RU), so the
  # delegated directories are its for this check; its sandboxes map to it.
  local c d out rc=0
  for c in $CONTROLLERS; do
    d=/sys/fs/cgroup/$c$CG
    chown "$ru_uid:$ru_gid" "$d"
    find "$d" -maxdepth 1 -type f -exec chown "$ru_uid:$ru_gid" {} +
  done
  # CAP_SETFCAP: the kernel maps a uid 0 into a new user namespace only for a holder of it (Linux 5.12);
  # /tmp/warren-data: /var/lib/warren is uid 10000's, and this root has no CAP_DAC_OVERRIDE
  local as_root=(--user 0 --cap-add=SETFCAP -e WARREN_DATA_DIR=/tmp/warren-data)
  out=$(pm rootless run --rm --network none "${RUN[@]}" "${as_root[@]}" "$IMG" doctor 2>&1) || rc=$?
  echo "$out"
  { [ "$rc" = 0 ] && ! grep -q '✗' <<<"$out" && grep -q 'a rootless container.s root' <<<"$out"; } || rc=1
  out=$(pm rootless run --rm --network none "${RUN[@]}" "${as_root[@]}" -v "$T/greedy.py:/greedy.py:ro" "$IMG" run --json --memory-mb 48 /greedy.py 2>&1) || true
  echo "$out"
  grep -q '"status": "memory_limit_exceeded"' <<<"$out" && grep -q '"stdout": "started\\n"' <<<"$out" || rc=1
  for c in $CONTROLLERS; do
    d=/sys/fs/cgroup/$c$CG
    chown "$host_uid:$host_uid" "$d"
    find "$d" -maxdepth 1 -type f -exec chown "$host_uid:$host_uid" {} +
  done
  return "$rc"
}

bind_proc() {   # bind_proc MODE: the runtime's /proc masks and read-only /proc/sys left as they are, WARREN_BIND_PROC=1
  # The opt-in for runtimes that cannot unmask /proc: doctor all ✓ saying what is degraded, a run memory-limited
  local mode=$1 out rc=0
  out=$(pm "$mode" run --rm --network none "${MASKED[@]}" -e WARREN_BIND_PROC=1 "$IMG" doctor 2>&1) || rc=$?
  echo "$out"
  { [ "$rc" = 0 ] && ! grep -q '✗' <<<"$out" && grep -q 'degraded: WARREN_BIND_PROC=1' <<<"$out" \
    && grep -q 'degraded: /proc/sys is read-only here' <<<"$out"; } || rc=1
  out=$(pm "$mode" run --rm --network none "${MASKED[@]}" -e WARREN_BIND_PROC=1 -v "$T/greedy.py:/greedy.py:ro" "$IMG" run --json --memory-mb 48 /greedy.py 2>&1) || true
  echo "$out"
  grep -q '"status": "memory_limit_exceeded"' <<<"$out" && grep -q '"stdout": "started\\n"' <<<"$out" || rc=1
  return "$rc"
}

nothing_left() {   # nothing_left: no per-execution cgroup outlived its container
  local c d left=""
  for c in $CONTROLLERS; do
    for d in /sys/fs/cgroup/$c$CG/*/; do [ -d "$d" ] && left="$left $d"; done
  done
  [ -z "$left" ] || { echo "cgroups left behind:$left"; return 1; }
}

for mode in $modes; do
  echo
  echo "=== test-container: $mode"
  if [ "$mode" = rootless ]; then host_uid=$((sub_uid + APP_UID - 1)); else host_uid=$APP_UID; fi
  if [ "$mode" = docker ]; then
    start_dockerd || { failed+=("docker: dockerd did not start ($T/dockerd.log above)"); continue; }
    pm docker version --format 'docker: client {{.Client.Version}}, server {{.Server.Version}}' || true
    # Docker before 25 loads no OCI archive itself
    IMG=warren:test
    skopeo copy --quiet --dest-daemon-host "$DOCKER_HOST_SOCK" "oci-archive:$image" "docker-daemon:$IMG" || IMG=""
  else
    IMG=$(pm "$mode" load -q -i "$image" | sed -n 's/^Loaded image[^:]*: //p' | head -1)
  fi
  [ -n "$IMG" ] || { failed+=("$mode: image load"); continue; }
  # the delegation: what `warren setup-cgroups --user` does, to the host uid that
  # is Warren's uid 10000 in this mode's container
  for c in $CONTROLLERS; do
    d=/sys/fs/cgroup/$c$CG
    mkdir -p "$d"
    chown "$host_uid:$host_uid" "$d"
    find "$d" -maxdepth 1 -type f -exec chown "$host_uid:$host_uid" {} +
  done
  # the /proc masks removed: podman's unmask=/proc/*, Docker's systempaths=unconfined
  if [ "$mode" = docker ]; then unmask=systempaths=unconfined; else unmask='unmask=/proc/*'; fi
  # apparmor=unconfined: what the docs give for hosts with AppArmor (this one has none: both engines take it and do nothing)
  # MASKED: every setting but the unmasked /proc (bind_proc's); RUN: all of them
  MASKED=(--cap-drop=all --security-opt no-new-privileges --security-opt "seccomp=$T/warren.json" --security-opt apparmor=unconfined
          "${ULIMITS[@]}" -e WARREN_CGROUP_ROOT=/)
  for c in $CONTROLLERS; do MASKED+=(-v "/sys/fs/cgroup/$c$CG:/sys/fs/cgroup/$c:rw"); done
  RUN=("${MASKED[@]}" --security-opt "$unmask")
  check "$mode" "warren doctor" doctor "$mode"
  check "$mode" "judge runs through the API" judge "$mode"
  check "$mode" "escape suite, core cases" escape "$mode"
  check "$mode" "the runtime's /proc masks kept, WARREN_BIND_PROC=1: doctor all ✓ (degraded), a run memory-limited" bind_proc "$mode"
  [ "$mode" = rootless ] && check "$mode" "as the container's root (--user 0 --cap-add=SETFCAP): doctor all ✓, a run memory-limited" as_container_root
  check "$mode" "no cgroup left behind" nothing_left
  pm "$mode" rmi -f "$IMG" >/dev/null 2>&1 || true
  [ "$mode" = docker ] && stop_dockerd
done

echo
if [ "${#failed[@]}" = 0 ]; then say "every check passed ($modes)"; exit 0; fi
say "FAILED: $(printf '%s; ' "${failed[@]}" | sed 's/; $//')"
exit 1
