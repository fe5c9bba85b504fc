#!/bin/bash
# Builds the container image of Warren itself: an OCI archive that podman and
# Docker load, made with Debian's mmdebstrap (as `warren image build` makes
# sandbox images) — nothing is pulled from a container registry.
#
# usage: sudo scripts/container-image.sh [--output FILE] [--tag NAME:TAG]
#            [--mirror URL] [--packages "PKG..."] [--load podman|docker|none]
#        (`npm run image:container`)
#
# What the image holds:
#   * Debian bookworm's essential set plus the host image's runtimes
#     (images/host/image.json: python3, gcc, g++ and the C library's headers;
#     bash is essential), tini (PID 1: reaps what Warren's launchers leave,
#     forwards SIGTERM) and redis-server (so that deploy/compose.yaml needs no
#     other image). Java is left out (it doubles the image); add it with
#     --packages default-jdk-headless.
#   * Node.js: Warren needs Node 20 (package.json engines) and Debian 12's own
#     nodejs is 18, so this machine's `node` binary (the one that built Warren)
#     is copied to /usr/bin/node (where the host image's JavaScript finds it: the
#     sandboxes see the container's /usr). Its libraries (libstdc++) come from Debian.
#   * Warren, built: bin/, dist/, the native launcher, libwarren-zygote.so and warren-zygote.node,
#     the functions' shims, images/ (recipes), deploy/ (the seccomp profile) and
#     node_modules without the dev dependencies, in /opt/warren.
#   * user `warren` (uid:gid 10000:10000) owning /var/lib/warren (WARREN_DATA_DIR).
#     The image runs as that user: the launcher needs a non-root uid in the
#     container (docs/containers.md).
# Entry point: tini -- warren; default command `serve` (`worker` for workers).
#
# Needs: root (mmdebstrap --mode=root; or run it rootless with /etc/subuid
# ranges, mmdebstrap then uses --mode=unshare), mmdebstrap, a built checkout
# (`npm ci` or `npm run build`), jq, gzip. Takes about 2 minutes on this
# project's 2-core machine from deb.debian.org; the image is about 200 MiB
# compressed, 600 MiB unpacked (docs/containers.md has the measured numbers).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
say() { echo "container-image: $*" >&2; }
die() { echo "container-image: $*" >&2; exit 1; }

output=$repo/build/warren-oci.tar
tag=warren:latest
mirror=${WARREN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
extra=""
load=none
while [ "$#" -gt 0 ]; do
  case $1 in
    --output) output=$(realpath -m "$2"); shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --packages) extra=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case $load in podman|docker|none) ;; *) die "--load takes podman, docker or none, got $load" ;; esac
[[ $tag == *:* ]] || tag=$tag:latest
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: sudo apt-get install -y mmdebstrap"
command -v jq >/dev/null || die "jq is missing: sudo apt-get install -y jq"
[ -x src/sandbox/native/build/warren-launch ] && [ -f src/sandbox/native/build/libwarren-zygote.so ] && [ -f src/sandbox/native/build/warren-zygote.node ] \
  && [ -f dist/cli/main.js ] \
  || die "not built: run npm ci (or npm run build) first"
node=$(readlink -f "$(command -v node)") || die "node not found"
node_major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "$node is Node.js $node_major; Warren needs 20 or later (package.json engines)"

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- Warren, staged as it will sit in /opt/warren --------------------------------
stage=$work/warren
mkdir -p "$stage/src/sandbox/native/build" "$stage/src/worker/functions"
cp -a bin dist images deploy package.json package-lock.json "$stage/"
cp -a src/sandbox/native/build/warren-launch src/sandbox/native/build/libwarren-zygote.so src/sandbox/native/build/warren-zygote.node "$stage/src/sandbox/native/build/"
cp -a src/worker/functions/shims "$stage/src/worker/functions/"
cp -a node_modules "$stage/"
# the dev dependencies out, offline (prune reads only the lockfile and node_modules)
(cd "$stage" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline >/dev/null) || die "npm prune failed"
find "$stage/dist" -name '*.map' -delete
chmod -R go+rX,go-w "$stage"
say "staged Warren: $(du -sh "$stage" | cut -f1) ($(cd "$stage" && du -sh node_modules | cut -f1) of node_modules)"

# --- the root filesystem, one tarball --------------------------------------------
cp "$node" "$work/node"
packages="tini,ca-certificates,python3,gcc,g++,libc6-dev,libstdc++6,redis-server"
for p in $extra; do packages="$packages,$p"; done
rootfs=$work/rootfs.tar
say "mmdebstrap bookworm from $mirror: $packages"
mmdebstrap --mode=auto --variant=essential --format=tar --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="copy-in '$work/node' /usr/bin" \
  --customize-hook='mkdir -p "$1/opt/warren"' \
  --customize-hook="sync-in '$stage' /opt/warren" \
  --customize-hook='chroot "$1" sh -c "
      set -e
      chown -R 0:0 /opt/warren /usr/bin/node
      ln -s /opt/warren/bin/warren.js /usr/local/bin/warren
      echo warren:x:10000: >> /etc/group
      echo warren:x:10000:10000:Warren:/var/lib/warren:/usr/sbin/nologin >> /etc/passwd
      echo warren:!:: >> /etc/gshadow
      echo warren:!:20000:::::: >> /etc/shadow
      mkdir -p /var/lib/warren && chown 10000:10000 /var/lib/warren && chmod 700 /var/lib/warren
      rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/*.log /var/log/apt /etc/machine-id
      node --version >/dev/null"' \
  bookworm "$rootfs" "$mirror" >&2 || die "mmdebstrap failed (its messages are above)"

# --- the OCI image layout, then its archive ---------------------------------------
oci=$work/oci
mkdir -p "$oci/blobs/sha256"
blob() {   # blob FILE: moves FILE into the blobs, prints its digest
  local digest
  digest=sha256:$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$oci/blobs/sha256/${digest#sha256:}"
  echo "$digest"
}
say "compressing the layer ($(du -m "$rootfs" | cut -f1) MiB)"
diff_id=sha256:$(sha256sum "$rootfs" | cut -d' ' -f1)
gzip -n -1 "$rootfs"
layer_size=$(stat -c %s "$rootfs.gz")
layer=$(blob "$rootfs.gz")
version=$(jq -r .version package.json)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
node_version=$("$node" --version)
jq -n --arg diff "$diff_id" --arg created "$created" --arg version "$version" --arg revision "$revision" --arg node "$node_version" '{
  architecture: "amd64", os: "linux", created: $created,
  config: {
    User: "10000:10000",
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/var/lib/warren", "NODE_ENV=production",
          "WARREN_DATA_DIR=/var/lib/warren"],
    Entrypoint: ["/usr/bin/tini", "--", "/usr/local/bin/warren"],
    Cmd: ["serve"],
    WorkingDir: "/var/lib/warren",
    ExposedPorts: {"8080/tcp": {}},
    StopSignal: "SIGTERM",
    Labels: {
      "org.opencontainers.image.title": "warren",
      "org.opencontainers.image.description": "Warren, a rootless sandbox runner for untrusted code. Run without --privileged: see docs/containers.md (seccomp profile deploy/warren.json).",
      "org.opencontainers.image.version": $version,
      "org.opencontainers.image.revision": $revision,
      "org.opencontainers.image.licenses": "Apache-2.0",
      "dev.warren.node": $node
    }
  },
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created: $created, created_by: "scripts/container-image.sh (mmdebstrap bookworm, Warren \($version) \($revision), Node.js \($node))"}]
}' > "$work/config.json"
config_size=$(stat -c %s "$work/config.json")
config=$(blob "$work/config.json")
jq -n --arg config "$config" --argjson csize "$config_size" --arg layer "$layer" --argjson lsize "$layer_size" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $config, size: $csize},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $layer, size: $lsize}]
}' > "$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest=$(blob "$work/manifest.json")
jq -n --arg manifest "$manifest" --argjson size "$manifest_size" --arg ref "$tag" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $manifest, size: $size,
               platform: {architecture: "amd64", os: "linux"},
               annotations: {"org.opencontainers.image.ref.name": $ref}}]
}' > "$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
mkdir -p "$(dirname "$output")"
tar -C "$oci" -cf "$output.tmp" oci-layout index.json blobs
mv "$output.tmp" "$output"
say "wrote $output: $(du -m "$output" | cut -f1) MiB, image $tag ($manifest), in $((SECONDS - start)) s"

case $load in
  podman) podman load -i "$output" >&2 ;;
  docker) docker load -i "$output" >&2 ;;
  none) say "load it with: podman load -i $output   (Docker 25+: docker load -i $output)" ;;
esac
