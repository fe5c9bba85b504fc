#!/bin/sh
# Runs INSIDE the cgroup v2 VM (test/containers/run-cgv2.sh starts it),
# as root, cwd = the project (/proj). Warren in a real runtime on a pure cgroup
# v2 kernel: rootless podman with crun, Warren as the container's root (uid 0
# of its user namespace, the rootless user on the host) with every capability
# dropped but CAP_SETFCAP, /proc unmasked, deploy/warren.json, its own cgroup
# made by crun under the user's delegated cgroup and mounted read-write
# (--cgroupns=private --systemd=always):
#   1. `warren doctor`: every item ✓, the cgroup taken over
#   2. a run memory-limited (a 200 MiB fill under 48 MB: memory_limit_exceeded)
#   3. without --systemd=always podman mounts that cgroup read-only: `warren
#      run` refuses, naming the read-only mount and the option, exit 125
#   4. nothing left behind in the user's cgroup
#   5. rootful podman with a user namespace of its own (--uidmap: a Kubernetes
#      pod with hostUsers: false, deploy/kubernetes/cgroup-v2, under
#      CRI-O with crun), Warren its root with CAP_SETFCAP alone: doctor ✓ with
#      the cgroup taken over, a run memory-limited, a sandbox that reaches no
#      cgroup (its own namespace, no /sys, no cgroup2 mount), nothing left behind
# The VM has no systemd: the user's delegated cgroup is made here as systemd's
# user@.service would have it (owned by the user, controllers enabled, the
# user's own processes in a leaf), and podman uses its cgroupfs manager.
# The container's root filesystem is a directory with the host's /usr bound
# in (podman --rootfs): no image to load under the VM's emulation.
# Busybox sh: keep it POSIX. Exit status: 0 only when every check passed.
set -u
PREFIX=podman-cgv2 SCRIPT=test/containers/podman-cgv2-inside.sh
. test/containers/cgv2-inside-common.sh
command -v podman >/dev/null && command -v crun >/dev/null || { echo "podman-cgv2: podman and crun are needed (apt-get install -y podman crun uidmap)"; exit 1; }

# the rootless user, its subordinate ids, its runtime dir
U=1000 NAME=pm
echo "$NAME:x:$U:$U::/home/$NAME:/bin/sh" >> /etc/passwd; echo "$NAME:x:$U:" >> /etc/group
echo "$NAME:200000:65536" > /etc/subuid; echo "$NAME:200000:65536" > /etc/subgid
mkdir -p /etc/containers /home/$NAME /run/user/$U /ctr /srv
mount -t tmpfs tmpfs /home/$NAME; mount -t tmpfs tmpfs /run/user/$U; mount -t tmpfs tmpfs /ctr; mount -t tmpfs tmpfs /srv
chown $U:$U /home/$NAME /run/user/$U; chmod 700 /run/user/$U
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > /etc/containers/policy.json

# the container's root: the host's /usr is bound over usr/ at run time
cd /ctr && mkdir -p usr proc sys dev etc tmp proj && ln -s usr/bin bin && ln -s usr/lib lib && ln -s usr/lib64 lib64 && ln -s usr/sbin sbin
printf 'root:x:0:0::/root:/bin/sh\n' > etc/passwd; printf 'root:x:0:\n' > etc/group
chown -R $U:$U /ctr; chown -h $U:$U /ctr/bin /ctr/lib /ctr/lib64 /ctr/sbin
cd /proj
cp deploy/warren.json /srv/warren.json
printf 'print("started", flush=True)\nb = b"x" * (200 << 20)\nprint("not killed")\n' > /srv/greedy.py
cp test/containers/cgroup-peek.py /srv/peek.py
chmod 644 /srv/warren.json /srv/greedy.py /srv/peek.py

# the user's delegated cgroup, as systemd's user@.service gives it
C=/sys/fs/cgroup/user-$NAME
mkdir -p "$C/session"
echo "+memory +pids +cpu" > /sys/fs/cgroup/cgroup.subtree_control
chown -R $U:$U "$C"
echo $$ > "$C/session/cgroup.procs"

pm() { /usr/bin/setpriv --reuid=$U --regid=$U --clear-groups /usr/bin/env HOME=/home/$NAME XDG_RUNTIME_DIR=/run/user/$U USER=$NAME LOGNAME=$NAME \
  podman --runtime crun --cgroup-manager cgroupfs --events-backend file --storage-driver vfs "$@"; }
RUN="--rm --network none --cap-drop=all --cap-add=SETFCAP --security-opt no-new-privileges --security-opt unmask=/proc/* --security-opt seccomp=/srv/warren.json
  -v /usr:/usr:ro -v /proj:/proj:ro -v /srv/greedy.py:/greedy.py:ro -e WARREN_DATA_DIR=/tmp/warren-data --cgroups=enabled --cgroup-parent=/user-$NAME --cgroupns=private"
echo "podman-cgv2: $(podman --version), $(crun --version | head -1), $(uname -r)"

# 1. doctor
out=$(pm run $RUN --systemd=always --rootfs /ctr /usr/bin/node /proj/bin/warren.js doctor 2>&1); rc=$?
echo "$out"
if [ "$rc" = 0 ] && ! echo "$out" | grep -q '✗' && echo "$out" | grep -q '✓ took over /sys/fs/cgroup'; then ok "doctor: every item ✓, the container's own cgroup taken over"
else fail "doctor (exit $rc)"; fi

# 2. a run memory-limited. At its limit the kernel reclaims the program's file pages (Python's own code) and
# faults them back before it gives up and kills; under the VM's emulation that can take seconds of CPU
# (once 3 s: the default CPU limit, time_limit_exceeded), so time is no limit here
out=$(pm run $RUN --systemd=always --rootfs /ctr /usr/bin/node /proj/bin/warren.js run --json --memory-mb 48 --cpu-ms 30000 --wall-ms 60000 /greedy.py 2>&1)
echo "$out" | grep -E '"(status|stdout)"'
if echo "$out" | grep -q '"status": "memory_limit_exceeded"' && echo "$out" | grep -q '"stdout": "started\\n"'; then ok "a run memory-limited inside the container"
else echo "$out" | tail -20; fail "run memory-limited"; fi

# 3. the cgroup read-only (podman's default without --systemd=always): a clear refusal
out=$(pm run $RUN --rootfs /ctr /usr/bin/node /proj/bin/warren.js run --json --memory-mb 48 /greedy.py 2>&1); rc=$?
echo "$out" | tail -6
if [ "$rc" = 125 ] && echo "$out" | grep -q '/sys/fs/cgroup is on a read-only mount' && echo "$out" | grep -q -- '--systemd=always' && ! echo "$out" | grep -q '    at '; then
  ok "a read-only cgroup refused, naming the mount and the option (exit 125)"
else fail "read-only refusal (exit $rc)"; fi

# 4. nothing left in the user's cgroup but its own leaf
left=$(find "$C" -mindepth 1 -maxdepth 1 -type d ! -name session)
if [ -z "$left" ]; then ok "nothing left behind in $C"; else fail "left behind: $left"; fi

# 5. rootful podman with a user namespace of its own (--uidmap, as a Kubernetes pod with hostUsers: false
# gets from its runtime): the shape of deploy/kubernetes/cgroup-v2 under CRI-O with crun. The
# container's root is host uid 300000, to whom crun gives the container's cgroup; Warren is that root with
# CAP_SETFCAP alone, and its sandboxes map to it, never to the host's root
R=300000
mkdir -p /ctr2 && mount -t tmpfs tmpfs /ctr2 && cp -a /ctr/. /ctr2/ && chown -R $R:$R /ctr2 && chown -h $R:$R /ctr2/bin /ctr2/lib /ctr2/lib64 /ctr2/sbin
rootful() { podman --runtime crun --cgroup-manager cgroupfs --events-backend file --storage-driver vfs --root /srv/podman-root --runroot /srv/podman-run "$@"; }
KRUN="--rm --network none --uidmap 0:$R:65536 --gidmap 0:$R:65536 --cap-drop=all --cap-add=SETFCAP --security-opt no-new-privileges
  --security-opt unmask=/proc/* --security-opt seccomp=/srv/warren.json -v /usr:/usr:ro -v /proj:/proj:ro -v /srv/greedy.py:/greedy.py:ro
  -e WARREN_DATA_DIR=/tmp/warren-data --cgroups=enabled --cgroup-parent=/pod-k8s --cgroupns=private --systemd=always --rootfs /ctr2"   # last: the command follows --rootfs
out=$(rootful run $KRUN /usr/bin/node /proj/bin/warren.js doctor 2>&1); rc=$?
echo "$out"
if [ "$rc" = 0 ] && ! echo "$out" | grep -q '✗' && echo "$out" | grep -q '✓ took over /sys/fs/cgroup'; then ok "rootful, user-namespaced (uid 0 = host $R): doctor every item ✓, the cgroup taken over"
else fail "rootful user-namespaced doctor (exit $rc)"; fi
out=$(rootful run $KRUN /usr/bin/node /proj/bin/warren.js run --json --memory-mb 48 --cpu-ms 30000 --wall-ms 60000 /greedy.py 2>&1)
echo "$out" | grep -E '"(status|stdout)"'
if echo "$out" | grep -q '"status": "memory_limit_exceeded"' && echo "$out" | grep -q '"stdout": "started\\n"'; then ok "rootful, user-namespaced: a run memory-limited inside the container"
else echo "$out" | tail -20; fail "rootful user-namespaced run memory-limited"; fi
# a sandbox of that Warren reaches no cgroup either: its own namespace, no /sys, mount refused
# time is no limit here either: Python's start under the emulation took over the default 3 s of CPU once (a busy host)
out=$(rootful run -v /srv/peek.py:/peek.py:ro $KRUN /usr/bin/node /proj/bin/warren.js run --json --cpu-ms 30000 --wall-ms 60000 /peek.py 2>&1)
echo "$out" | grep '"stdout"'
if echo "$out" | grep -q 'cgroup 0::/\\nsys False\\nmount -1 Operation not permitted'; then ok "rootful, user-namespaced: a sandbox sees its own cgroup namespace only, no /sys, and cannot mount cgroup2"
else echo "$out" | tail -20; fail "rootful user-namespaced sandbox cgroup view"; fi
# the containers' cgroups were made in /pod-k8s (a pod's cgroup, as it were): nothing of them may stay
# (conmon: podman's own monitor's cgroup, which its cgroupfs manager keeps there)
left=$(find /sys/fs/cgroup/pod-k8s -mindepth 1 -maxdepth 1 -type d ! -name conmon 2>/dev/null)
if [ -z "$left" ]; then ok "rootful: nothing left behind in /sys/fs/cgroup/pod-k8s"; else fail "rootful left behind: $left"; fi

[ -z "$FAILED" ] && { echo "podman-cgv2: every check passed"; exit 0; }
echo "podman-cgv2: FAILED:$FAILED"; exit 1
