#!/bin/bash
# Tests everything, from a fresh Debian 12 machine: the one command to run.
#
# usage: sudo scripts/test-all.sh        (`sudo npm run test:all`; CI: .ci/run)
#
# Idempotent. In order:
#   1. apt packages the tests need, when missing (apt-get update once, only then)
#   2. node_modules: `npm ci` when missing or older than package-lock.json (its
#      `prepare` builds TypeScript and the C launcher), else `npm run build`
#   3. rootless, this host's cgroups (v1 here): the sandbox and cgroup suites as
#      an unprivileged user with no capabilities      (scripts/test-rootless.sh)
#   4. cgroup v2, in a VM: the same suites as `nobody` on a pure cgroup v2
#      kernel (test/vm/run-cgv2.sh, ../shared/tools/cgv2-vm.sh), and Warren
#      in podman (rootless, and rootful with --uidmap) and in Docker there
#      (test/containers/run-cgv2.sh); then the
#      `python` image built with mmdebstrap and its languages run in it; then
#      Warren's own container image under podman, rootful and rootless, and
#      under Docker, with every capability dropped
#      (test/containers/run-containers.sh; cgroup v1 hosts)
#   5. the full suite as root: `npx vitest run`
# Every part runs even when an earlier one failed; the parts that failed are
# listed just before part 5, and part 5 reports each as a failed test with the
# end of its output (test/ci/test-all-parts.test.ts), so the output still ends
# with vitest's summary and that summary counts them.
# Exit status: non-zero when any part failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ "$(id -u)" != 0 ]; then
  echo "test-all: run as root (apt, a test user, cgroup delegation, the VM): sudo $0" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
failed=()
# Each part's output is also kept in $parts/NN.log, and its outcome in
# $parts/NN.status ("name<TAB>exit<TAB>seconds"); the full suite reads them
# (test/ci/test-all-parts.test.ts), so a part that failed is a failed test
# whose message holds the end of that part's output, next to vitest's summary.
parts=${TMPDIR:-/tmp}/warren-test-all
rm -rf "$parts" && mkdir -p "$parts"
nparts=0
part() {   # part NAME COMMAND...: run one part, remember a failure, go on
  local name=$1 start=$SECONDS rc=0 n
  shift
  nparts=$((nparts + 1)); n=$(printf '%02d' "$nparts")
  echo
  echo "=== test-all: $name"
  "$@" 2>&1 | tee "$parts/$n.log" || rc=${PIPESTATUS[0]}
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" > "$parts/$n.status"
  if [ "$rc" = 0 ]; then echo "=== test-all: $name: ok ($((SECONDS - start)) s)"
  else echo "=== test-all: $name: FAILED, exit $rc ($((SECONDS - start)) s)"; failed+=("$name"); fi
}

# --- 1. packages ---------------------------------------------------------------
#   qemu-system-x86 busybox-static  the cgroup v2 VM (../shared/tools/cgv2-vm.sh)
#   bubblewrap                      the benchmarks compare against bwrap
#   strace                          holds a launcher syscall to force a race (test/launcher)
#   redis-server                    the queue tests start their own Redis
#   gcc make libc6-dev              the C launcher; python3 g++ default-jdk-headless:
#                                   languages of the host image under test
#   musl-tools                      the launcher is linked against musl when it is there (its
#                                   start-up is cheaper on a VM: src/sandbox/native/Makefile)
#   util-linux (setpriv, namei) and passwd (useradd) are essential packages.
#   mmdebstrap                      builds the `python` image (test:images)
#   zstd                            compresses the zstd archives and layers the import tests read
#   podman runc uidmap slirp4netns  Warren in a container, rootful and rootless (test/containers/run-containers.sh)
#   docker-registry skopeo          the image-pull tests' registry (test/images/registry-fixture.ts); skopeo also
#                                   loads Warren's OCI archive into Docker
#   docker.io                       Warren in a Docker container (the tests start a dockerd of their own), here and in the VM
#   crun                            rootless podman on cgroup v2 in the VM (test/containers/run-cgv2.sh)
#   jq                              writes the container image's manifests and the seccomp profile
PACKAGES=(qemu-system-x86 busybox-static bubblewrap strace redis-server gcc g++ make libc6-dev musl-tools python3 mmdebstrap docker-registry skopeo zstd
          podman runc uidmap slirp4netns docker.io crun jq)
install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  command -v javac >/dev/null || missing+=(default-jdk-headless)
  # cgv2-vm.sh looks the kernel package up with apt-cache on its first boot
  local need_lists=0
  [ "${#missing[@]}" = 0 ] || need_lists=1
  [ -f "${VMWORK:-/tmp/cgv2-vm}/vmlinuz" ] \
    || apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-' || need_lists=1
  if [ "$need_lists" = 1 ]; then
    apt-get update -q || return 1
  fi
  if [ "${#missing[@]}" != 0 ]; then
    echo "test-all: installing ${missing[*]}"
    # no service of a package installed here starts (docker.io's dockerd would add iptables
    # rules and a bridge to the host): a policy-rc.d for this install, unless there is one
    local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1; fi
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null || rc=$?
    [ "$own_policy" = 0 ] || rm -f "$policy"
    [ "$rc" = 0 ] || return 1
  else
    echo "test-all: apt packages present"
  fi
}

# --- 2. node_modules and the build ---------------------------------------------
install_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] \
     || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "test-all: npm ci"
    npm ci --no-audit --no-fund </dev/null || return 1
    # npm ci runs the `prepare` script (the build); when it did not, build now
    [ -x src/sandbox/native/build/warren-launch ] && [ -f dist/cli/main.js ] && return 0
  fi
  echo "test-all: npm run build"
  npm run build </dev/null
}

part "apt packages" install_packages
part "npm ci / build" install_node_modules
v=$( [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && echo 2 || echo 1)
if [ -x src/sandbox/native/build/warren-launch ] && [ -f dist/cli/main.js ]; then
  part "rootless on this host (cgroup v$v)" bash scripts/test-rootless.sh
  part "cgroup v2 VM (as nobody)" bash test/vm/run-cgv2.sh
  # Warren in podman (crun; rootless, then rootful with --uidmap), its own cgroup taken over, and in Docker
  # (runc), in a delegated cgroup parent, on the cgroup v2 VM's kernel (about 3.5 and 3.5 minutes)
  part "Warren in podman and Docker on cgroup v2 (VM)" bash test/containers/run-cgv2.sh
  # a built image (mmdebstrap from Debian's mirror), then every language of it in a sandbox
  part "python image: build, then its languages" env WARREN_BUILD_IMAGES=python WARREN_DATA_DIR="${TMPDIR:-/tmp}/warren-ci-images" \
    npx --no-install vitest run --configLoader runner --config vitest.images.config.ts
  # Warren's own image under podman, rootful and rootless, and Docker, unprivileged (about 6 minutes)
  if [ "$v" = 1 ]; then part "Warren in containers (podman rootful, rootless; Docker)" bash test/containers/run-containers.sh
  else echo "=== test-all: cgroup v2 host: Warren in a container is not supported there yet (docs/containers.md)"; fi
else
  echo "=== test-all: no build (src/sandbox/native/build/warren-launch, dist/): skipping the rootless and VM runs"
  part "rootless, VM and container runs: not run, there is no build" false
fi

echo
if [ "${#failed[@]}" = 0 ]; then
  echo "=== test-all: every part before the full suite passed"
else
  echo "=== test-all: FAILED before the full suite: $(printf '%s; ' "${failed[@]}" | sed 's/; $//')"
fi
echo "=== test-all: the full suite, as root (npx vitest run)"
rc=0
WARREN_TEST_ALL_PARTS=$parts npx --no-install vitest run </dev/null || rc=$?   # --no-install: never fetch a vitest
[ "$rc" != 0 ] || [ "${#failed[@]}" = 0 ] || rc=1
exit "$rc"
