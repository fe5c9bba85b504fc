#!/usr/bin/env bash
# Start-up latency of /bin/true, side by side in one run: plain spawn,
# unshare, bubblewrap, warren-launch cold (with and without cgroup limits), and
# a warm start: one served execution in a container held ahead (the warm pool).
# usage: bench/start-latency.sh [ROUNDS]    (results in bench/results/)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-200}
L=src/sandbox/native/build/warren-launch
[ -x "$L" ] || { echo "build first: npm run build:native" >&2; exit 1; }
# Debian's bubblewrap is the comparison: installed here when missing (as root), else the command to run
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "# installing Debian's bubblewrap for the comparison" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap >&2 || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap >&2; }
  fi
  command -v bwrap >/dev/null || { echo "bubblewrap is missing: sudo apt-get install -y bubblewrap" >&2; exit 1; }
fi
# the host image's rootfs and this machine's delegated cgroup parents, as warren uses them
read -r ROOTFS CGROUPS < <(node --import tsx -e '
  const { loadSettings } = await import("./src/config/load-settings.ts");
  const { resolveDataDir } = await import("./src/config/data-dir.ts");
  const { loadHostImage } = await import("./src/sandbox/images/host-image.ts");
  const { detectCgroupDriver, resolveCgroupRoot } = await import("./src/sandbox/cgroup/index.ts");
  const settings = loadSettings(process.env, "serve").sandbox;
  const image = loadHostImage(resolveDataDir(settings.dataDir));
  const d = detectCgroupDriver();
  console.log(image.rootfs, d.parents(resolveCgroupRoot(d, settings.cgroupRoot)).map((p) => "--cgroup " + p).join(" "));')
BINDS="--ro-bind /usr /usr"
CMDS=$(mktemp)
trap 'rm -f "$CMDS"' EXIT
cat > "$CMDS" <<EOT
spawn	/bin/true
unshare -Urmpfniu	unshare -Urmpfniu /bin/true
bwrap --unshare-all	bwrap --unshare-all --ro-bind /usr /usr --symlink usr/lib64 /lib64 --symlink usr/lib /lib --symlink usr/bin /bin --proc /proc --dev /dev /bin/true
warren-launch (no cgroup)	$L --rootfs $ROOTFS $BINDS -- /bin/true
warren-launch (full)	$L --rootfs $ROOTFS $BINDS $CGROUPS --memory-mb 256 --pids 64 --cpu-ms 1000 --wall-ms 5000 --output-kb 1024 -- /bin/true
warren warm (served, full)	served: $L --hold --rootfs $ROOTFS $BINDS $CGROUPS ||| --memory-mb 256 --pids 64 --cpu-ms 1000 --wall-ms 5000 --output-kb 1024 -- /bin/true
EOT
# WARREN_BENCH_RESULTS: where the JSON goes (an unprivileged run may not write bench/results)
RESULTS=${WARREN_BENCH_RESULTS:-bench/results}
mkdir -p "$RESULTS"
OUT=$RESULTS/start-latency-$(date -u +%Y%m%dT%H%M%SZ)$([ "$(id -u)" = 0 ] || echo -rootless).json
echo "# $(uname -r), $(nproc) cores, uid $(id -u), cgroup parents: $CGROUPS"
python3 bench/timer.py "$ROUNDS" 20 "$CMDS" "$OUT"
echo "# written: $OUT"
