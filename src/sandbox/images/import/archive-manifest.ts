import { z } from "zod";
import { ImageCorruptError } from "../../../errors.js";
import { parseImageJson } from "../image-json.js";
import { type SpooledFile, type Spool, sha256Hex } from "./spool.js";

/** One layer to apply, in order. */
export interface LayerPlan {
  readonly blob: SpooledFile;
  /** Archive path or digest, for messages. */
  readonly name: string;
  /** The sha256 (hex) the uncompressed layer must have (the config's diff_id), when known. */
  readonly diffId: string | undefined;
}

export interface ArchivePlan {
  readonly format: "docker" | "oci";
  readonly layers: readonly LayerPlan[];
  /** The image config's environment (`KEY=VALUE`). */
  readonly env: readonly string[];
}

const descriptorSchema = z.looseObject({
  mediaType: z.string().optional().describe("What the blob is"),
  digest: z.string().describe("sha256:HEX of the blob"),
  platform: z.looseObject({ os: z.string().describe("e.g. linux"), architecture: z.string().describe("e.g. amd64") }).optional().describe("For entries of an index"),
});
const indexSchema = z.looseObject({ manifests: z.array(descriptorSchema).describe("Manifests or nested indexes") });
const manifestSchema = z.looseObject({
  config: descriptorSchema.describe("The image config blob"),
  layers: z.array(descriptorSchema).describe("Layer blobs, lowest first"),
});
const configSchema = z.looseObject({
  config: z.looseObject({ Env: z.array(z.string()).nullish().describe("KEY=VALUE") }).nullish().describe("Runtime defaults"),
  rootfs: z.looseObject({ diff_ids: z.array(z.string()).describe("sha256 of each uncompressed layer") }).optional().describe("Layer digests"),
});
const dockerManifestSchema = z
  .array(
    z.looseObject({
      Config: z.string().describe("Path of the config JSON in the archive"),
      Layers: z.array(z.string()).describe("Paths of the layer tars, lowest first"),
      RepoTags: z.array(z.string()).nullish().describe("Names of the image"),
    }),
  )
  .min(1);

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
/** Layer blobs Warren applies: tar, tar+gzip, tar+zstd (the bytes' magic decides how they are decompressed, see decompress.ts). */
const LAYER_TYPES = /^application\/vnd\.(oci\.image\.layer\.v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.diff\.tar(\.gzip)?)$/;

/**
 * Reads the manifests of a spooled image archive — an OCI layout (index.json)
 * or a `docker save` archive (manifest.json) — and lists its layers in order.
 * Every blob named by digest is checked against it; the config's diff_ids
 * are returned for checking each layer as it is applied.
 */
export async function planArchive(spool: Spool): Promise<ArchivePlan> {
  if (spool.has("index.json")) return planOci(spool);
  if (spool.has("manifest.json")) return planDocker(spool);
  throw new ImageCorruptError("The archive is neither a rootfs tarball, an OCI image layout (index.json) nor a `docker save` archive (manifest.json).");
}

async function planOci(spool: Spool): Promise<ArchivePlan> {
  const index = parseImageJson(indexSchema, await spool.json(spool.get("index.json", "index"), "index.json"), "archive", "index.json");
  const manifestDescriptor = await pickManifest(spool, index, 0);
  const manifest = parseImageJson(manifestSchema, await spool.json(spool.blob(manifestDescriptor.digest, "image manifest"), "image manifest"), "archive", "image manifest");
  const config = parseImageJson(configSchema, await spool.json(spool.blob(manifest.config.digest, "image config"), "image config"), "archive", "image config");
  const diffIds = diffIdsOf(config, manifest.layers.length);
  const layers = manifest.layers.map((layer, index): LayerPlan => {
    if (layer.mediaType !== undefined && !LAYER_TYPES.test(layer.mediaType)) {
      throw new ImageCorruptError(`The image's layer ${layer.digest} has media type ${layer.mediaType}; Warren reads tar, tar+gzip and tar+zstd layers.`);
    }
    return { blob: spool.blob(layer.digest, `layer ${index + 1}`), name: layer.digest, diffId: diffIds[index] };
  });
  return { format: "oci", layers, env: config.config?.Env ?? [] };
}

/** The manifest of this machine's platform (linux/amd64 on x86-64), through nested indexes. */
async function pickManifest(spool: Spool, index: z.infer<typeof indexSchema>, depth: number): Promise<z.infer<typeof descriptorSchema>> {
  if (depth > 4) throw new ImageCorruptError("The image's indexes nest more than 4 deep.");
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const candidates = index.manifests.filter((entry) => entry.platform === undefined || (entry.platform.os === "linux" && entry.platform.architecture === arch));
  const chosen = candidates[0];
  if (chosen === undefined) {
    const platforms = index.manifests.map((entry) => `${entry.platform?.os}/${entry.platform?.architecture}`).join(", ");
    throw new ImageCorruptError(`The image has no manifest for linux/${arch} (it has ${platforms}).`);
  }
  if (chosen.mediaType !== undefined && INDEX_TYPES.has(chosen.mediaType)) {
    const nested = parseImageJson(indexSchema, await spool.json(spool.blob(chosen.digest, "image index"), "image index"), "archive", "image index");
    return pickManifest(spool, nested, depth + 1);
  }
  return chosen;
}

async function planDocker(spool: Spool): Promise<ArchivePlan> {
  const manifests = parseImageJson(dockerManifestSchema, await spool.json(spool.get("manifest.json", "manifest"), "manifest.json"), "archive", "manifest.json");
  const entry = manifests[0]!;
  const configFile = spool.get(entry.Config, "image config");
  checkNamedDigest(entry.Config, configFile, "image config");
  const config = parseImageJson(configSchema, await spool.json(configFile, "image config"), "archive", "image config");
  const diffIds = diffIdsOf(config, entry.Layers.length);
  const layers = entry.Layers.map((name, index): LayerPlan => {
    const blob = spool.get(name, `layer ${index + 1}`);
    checkNamedDigest(name, blob, `layer ${index + 1}`);
    return { blob, name, diffId: diffIds[index] };
  });
  return { format: "docker", layers, env: config.config?.Env ?? [] };
}

/** docker save names configs `HEX.json` and (since Docker 25) blobs `blobs/sha256/HEX`: the name is the content's digest. */
function checkNamedDigest(name: string, found: SpooledFile, what: string): void {
  const match = /^([0-9a-f]{64})\.json$/.exec(name) ?? /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
  if (match === null) return;
  if (found.sha256 !== match[1]) {
    throw new ImageCorruptError(`The archive's ${what} ${name} does not match its digest: its content has sha256:${found.sha256}.`, { details: { expected: match[1], actual: found.sha256 } });
  }
}

function diffIdsOf(config: z.infer<typeof configSchema>, layers: number): (string | undefined)[] {
  const ids = config.rootfs?.diff_ids;
  if (ids === undefined) return Array.from({ length: layers }, () => undefined);
  if (ids.length !== layers) throw new ImageCorruptError(`The image config lists ${ids.length} layer digests (diff_ids) for ${layers} layers.`);
  return ids.map((id, index) => sha256Hex(id, `diff_id of layer ${index + 1}`));
}
