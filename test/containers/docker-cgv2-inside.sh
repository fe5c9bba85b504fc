#!/bin/sh
# Runs INSIDE the cgroup v2 VM (test/containers/run-cgv2.sh starts it),
# as root, cwd = the project (/proj). Warren under Docker (dockerd 20.10 with
# runc, its cgroupfs driver) on a pure cgroup v2 kernel, as uid 10000 with
# every capability dropped, /proc unmasked (systempaths=unconfined),
# deploy/warren.json, in a cgroup parent delegated to uid 10000 and bound
# read-write, the host's cgroup namespace (docs/containers.md, *Docker on
# cgroup v2*):
#   1. `warren doctor`: every item ✓
#   2. a run memory-limited (a 200 MiB fill under 48 MB: memory_limit_exceeded)
#   3. a sandbox sees only its own cgroup namespace, no /sys, and cannot mount
#      cgroup2
#   4. Docker's default (its own cgroup, read-only): `warren run` refuses,
#      naming the read-only mount, exit 125, no stack trace
#   5. nothing left behind in the delegated parent
# The VM has no systemd (Docker's cgroupfs driver is its default there) and no
# network: dockerd runs with no bridge and no iptables rules. The image is a
# directory imported with `docker import`; the host's /usr is bound in.
# Busybox sh: keep it POSIX. Exit status: 0 only when every check passed.
set -u
PREFIX=docker-cgv2 SCRIPT=test/containers/docker-cgv2-inside.sh
. test/containers/cgv2-inside-common.sh
command -v dockerd >/dev/null && command -v runc >/dev/null || { echo "docker-cgv2: dockerd and runc are needed (apt-get install -y docker.io)"; exit 1; }

D=/var/lib/wdocker
mkdir -p $D /ctr /srv /run/wdocker
mount -t tmpfs tmpfs $D; mount -t tmpfs tmpfs /ctr; mount -t tmpfs tmpfs /srv; mount -t tmpfs tmpfs /run/wdocker
SOCK=unix:///run/wdocker/docker.sock
dk() { /usr/bin/docker --host $SOCK "$@"; }
dockerd --host $SOCK --data-root $D/data --exec-root /run/wdocker/exec --pidfile /run/wdocker/pid --iptables=false --ip-forward=false \
  --ip-masq=false --bridge=none --storage-driver overlay2 > /srv/dockerd.log 2>&1 &
dpid=$!
i=0; while [ $i -lt 240 ] && ! dk version >/dev/null 2>&1; do kill -0 $dpid 2>/dev/null || break; sleep 0.5; i=$((i + 1)); done
dk version >/dev/null 2>&1 || { tail -30 /srv/dockerd.log; echo "docker-cgv2: dockerd did not start"; exit 1; }
echo "docker-cgv2: $(dk version --format 'Docker {{.Server.Version}}') ($(dk info --format '{{.CgroupDriver}} driver, cgroup v{{.CgroupVersion}}')), $(runc --version | head -1), $(uname -r)"

# the image: an empty root with /usr bound in at run time
cd /ctr && mkdir -p usr proc sys dev etc tmp proj && ln -s usr/bin bin && ln -s usr/lib lib && ln -s usr/lib64 lib64 && ln -s usr/sbin sbin
printf 'root:x:0:0::/root:/bin/sh\nwarren:x:10000:10000::/tmp:/bin/sh\n' > etc/passwd; printf 'root:x:0:\nwarren:x:10000:\n' > etc/group
chmod 1777 tmp
tar -C /ctr -cf - . | dk import - warren-v2:test >/dev/null || { echo "docker-cgv2: docker import failed"; exit 1; }
cd /proj
cp deploy/warren.json /srv/warren.json
printf 'print("started", flush=True)\nb = b"x" * (200 << 20)\nprint("not killed")\n' > /srv/greedy.py
# what a sandbox sees of the cgroups: its own namespace's root, no /sys, no cgroup2 mount of its own
cp test/containers/cgroup-peek.py /srv/peek.py
chmod 644 /srv/warren.json /srv/greedy.py /srv/peek.py

# once, on the host, as root: the worker's cgroup parent, delegated to uid 10000
P=/sys/fs/cgroup/warren-worker-1
bash deploy/delegate-cgroups.sh warren-worker-1 10000 || fail "deploy/delegate-cgroups.sh"
CG="--cgroupns=host --cgroup-parent=/warren-worker-1 -v $P:$P:rw -e WARREN_CGROUP_ROOT=$P"
RUN="--rm --network none --user 10000:10000 --cap-drop=all --security-opt no-new-privileges --security-opt systempaths=unconfined
  --security-opt seccomp=/srv/warren.json -v /usr:/usr:ro -v /proj:/proj:ro -v /srv/greedy.py:/greedy.py:ro -v /srv/peek.py:/peek.py:ro -e WARREN_DATA_DIR=/tmp/warren-data"

# 1. doctor
out=$(dk run $RUN $CG warren-v2:test /usr/bin/node /proj/bin/warren.js doctor 2>&1); rc=$?
echo "$out"
if [ "$rc" = 0 ] && ! echo "$out" | grep -q '✗' && echo "$out" | grep -q "✓ cgroup v2 root $P"; then ok "doctor: every item ✓ in the delegated parent"
else fail "doctor (exit $rc)"; fi

# 2. a run memory-limited. At its limit the kernel reclaims the program's file pages (Python's own code) and
# faults them back before it gives up and kills; under the VM's emulation that can take seconds of CPU
# (once 3 s: the default CPU limit, time_limit_exceeded), so time is no limit here
out=$(dk run $RUN $CG warren-v2:test /usr/bin/node /proj/bin/warren.js run --json --memory-mb 48 --cpu-ms 30000 --wall-ms 60000 /greedy.py 2>&1)
echo "$out" | grep -E '"(status|stdout)"'
if echo "$out" | grep -q '"status": "memory_limit_exceeded"' && echo "$out" | grep -q '"stdout": "started\\n"'; then ok "a run memory-limited inside the container"
else echo "$out" | tail -20; fail "run memory-limited"; fi

# 3. a sandbox reaches no cgroup: its own namespace, no /sys, mount refused
# time is no limit here either: Python's start under the emulation took over the default 3 s of CPU once (a busy host)
out=$(dk run $RUN $CG warren-v2:test /usr/bin/node /proj/bin/warren.js run --json --cpu-ms 30000 --wall-ms 60000 /peek.py 2>&1)
echo "$out" | grep '"stdout"'
if echo "$out" | grep -q 'cgroup 0::/\\nsys False\\nmount -1 Operation not permitted'; then ok "a sandbox sees its own cgroup namespace only, no /sys, and cannot mount cgroup2"
else echo "$out" | tail -20; fail "sandbox cgroup view"; fi

# 4. Docker's default (its own cgroup, read-only, behind a cgroup namespace): a clear refusal
out=$(dk run $RUN warren-v2:test /usr/bin/node /proj/bin/warren.js run --json --memory-mb 48 /greedy.py 2>&1); rc=$?
echo "$out" | tail -6
if [ "$rc" = 125 ] && echo "$out" | grep -q 'read-only mount' && ! echo "$out" | grep -q '    at '; then
  ok "Docker's read-only cgroup refused, naming the mount (exit 125)"
else fail "read-only refusal (exit $rc)"; fi

# 5. nothing left in the parent (each container's own cgroup went with it)
left=$(find "$P" -mindepth 1 -maxdepth 1 -type d)
if [ -z "$left" ]; then ok "nothing left behind in $P"; else fail "left behind: $left"; fi

kill $dpid 2>/dev/null; i=0; while [ $i -lt 60 ] && kill -0 $dpid 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
[ -z "$FAILED" ] && { echo "docker-cgv2: every check passed"; exit 0; }
echo "docker-cgv2: FAILED:$FAILED"; exit 1
