import fs from "node:fs";
import fsp from "node:fs/promises";
import type { Readable } from "node:stream";
import { z } from "zod";
import { ImageCorruptError, ImageLimitError } from "../../../errors.js";
import { parseImageJson } from "../image-json.js";
import { DEFAULT_IMPORT_LIMITS, formatBytes, type ImportLimits } from "../import/limits.js";
import { StoreLayout } from "../store/layout.js";
import type { InstallOptions, InstallResult } from "../store/store.js";
import { downloadBlob, inParallel, type BlobDescriptor } from "./blob-download.js";
import type { Credentials } from "./auth.js";
import { ociLayoutStream, type LayoutBlob } from "./layout-writer.js";
import { formatReference, type ImageReference } from "./reference.js";
import { MANIFEST_TYPES, RegistryClient, type FetchedManifest } from "./registry-client.js";

export interface PullOptions {
  readonly insecure?: boolean;
  readonly credentials?: Credentials | undefined;
  /** Blobs fetched at once. @defaultValue 3 */
  readonly parallel?: number;
  readonly limits?: ImportLimits;
  /** Called as blobs arrive: totals over all blobs of the image. */
  readonly onProgress?: (progress: PullProgress) => void;
}

export interface PullProgress {
  readonly blobsDone: number;
  readonly blobs: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

/** Installs the pulled image (an OCI layout stream) into the store, e.g. with ImageStore.install or installImage. */
export type Installer<R extends InstallResult> = (archive: Readable, source: InstallOptions["source"]) => Promise<R>;

const descriptorSchema = z.looseObject({
  mediaType: z.string().optional().describe("What the blob is"),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "a sha256:HEX digest").describe("sha256:HEX of the blob"),
  size: z.number().int().nonnegative().describe("Bytes of the blob"),
  platform: z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional().describe("For entries of an index"),
});
const indexSchema = z.looseObject({ manifests: z.array(descriptorSchema).describe("One manifest per platform") });
const manifestSchema = z.looseObject({ config: descriptorSchema, layers: z.array(descriptorSchema) });

/**
 * Pulls REF from its registry into the image store: resolves the manifest
 * (through an index or manifest list to linux/amd64), downloads config and
 * layers — a few at once, resumable, each verified against its digest —
 * into `images/downloads/`, then hands them to the importer as an OCI
 * layout stream, so every rule of `warren image import` applies. The
 * downloaded blobs are deleted once the image is installed; on failure the
 * store is untouched (partial downloads stay to be resumed, mismatching ones
 * are deleted).
 */
export async function pullImage<R extends InstallResult>(dataDir: string, ref: ImageReference, install: Installer<R>, options: PullOptions = {}): Promise<R & { readonly manifestDigest: string }> {
  const client = new RegistryClient(ref, { insecure: options.insecure ?? false, credentials: options.credentials });
  const manifest = await resolveManifest(client, ref);
  const parsed = parseImageJson(manifestSchema, manifest.json, "registry", "image manifest");
  const blobs: BlobDescriptor[] = [
    { digest: parsed.config.digest, size: parsed.config.size, what: "config" },
    ...parsed.layers.map((layer, index) => ({ digest: layer.digest, size: layer.size, what: `layer ${index + 1}` })),
  ];
  const unique = [...new Map(blobs.map((blob) => [blob.digest, blob])).values()];
  const totalBytes = unique.reduce((sum, blob) => sum + blob.size, 0);
  const limits = options.limits ?? DEFAULT_IMPORT_LIMITS;
  if (totalBytes > limits.maxBytes) {
    throw new ImageLimitError(`The image's blobs are ${formatBytes(totalBytes)}, more than the import cap of ${formatBytes(limits.maxBytes)} (--max-size-mb).`, { totalBytes, maxBytes: limits.maxBytes });
  }

  const storeLayout = new StoreLayout(dataDir);
  const dir = storeLayout.downloadsDir;
  await fsp.mkdir(storeLayout.root, { recursive: true, mode: 0o755 }); // the sandbox user walks through images/ to the rootfs: not 0700
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const received = new Map<string, number>();
  let blobsDone = 0;
  const report = () => options.onProgress?.({ blobsDone, blobs: unique.length, bytes: [...received.values()].reduce((a, b) => a + b, 0), totalBytes });
  const files = new Map<string, string>();
  const controller = new AbortController();
  await inParallel(unique, options.parallel ?? 3, controller, async (blob) => {
    const file = await downloadBlob(client, blob, dir, (digest, bytes) => {
      received.set(digest, bytes);
      report();
    }, controller.signal);
    files.set(blob.digest, file);
    blobsDone++;
    report();
  });

  const layout: LayoutBlob[] = unique.map((blob) => ({ digest: blob.digest, file: files.get(blob.digest)!, size: blob.size }));
  const result = await install(ociLayoutStream(manifest, layout), { kind: "pull", detail: `${formatReference(ref)} (${manifest.digest})` });
  for (const file of files.values()) fs.rmSync(file, { force: true });
  return { ...result, manifestDigest: manifest.digest };
}

/** The image manifest for linux/amd64: REF's own, or the one its index / manifest list names for this platform. */
async function resolveManifest(client: RegistryClient, ref: ImageReference): Promise<FetchedManifest> {
  let fetched = await client.manifest(ref.digest ?? ref.tag ?? "latest");
  for (let depth = 0; isIndex(fetched.mediaType, fetched.json); depth++) {
    if (depth >= 4) throw new ImageCorruptError("The image's indexes nest more than 4 deep.");
    const index = parseImageJson(indexSchema, fetched.json, "registry", "image index");
    const arch = process.arch === "x64" ? "amd64" : process.arch === "ia32" ? "386" : process.arch;
    const chosen = index.manifests.find((entry) => entry.platform?.os === "linux" && entry.platform.architecture === arch) ?? index.manifests.find((entry) => entry.platform === undefined && entry.mediaType !== undefined && !entry.mediaType.includes("attestation"));
    if (chosen === undefined) {
      const platforms = index.manifests.map((entry) => (entry.platform === undefined ? "unknown" : `${entry.platform.os}/${entry.platform.architecture}`)).join(", ");
      throw new ImageCorruptError(`${formatReference(ref)} has no image for linux/${arch} (it has ${platforms || "none"}).`);
    }
    fetched = await client.manifest(chosen.digest);
  }
  if (fetched.mediaType !== MANIFEST_TYPES.ociManifest && fetched.mediaType !== MANIFEST_TYPES.dockerManifest) {
    const schema1 = typeof fetched.json === "object" && fetched.json !== null && (fetched.json as { schemaVersion?: unknown }).schemaVersion === 1;
    if (schema1) throw new ImageCorruptError(`${formatReference(ref)} is a Docker schema 1 manifest (deprecated); Warren reads OCI and Docker v2 manifests. Re-push the image with a current client.`);
    if (fetched.mediaType !== "") throw new ImageCorruptError(`${formatReference(ref)} has a manifest of media type ${fetched.mediaType}, not an image manifest.`);
  }
  return fetched;
}

function isIndex(mediaType: string, json: unknown): boolean {
  if (mediaType === MANIFEST_TYPES.ociIndex || mediaType === MANIFEST_TYPES.dockerList) return true;
  return mediaType === "" && typeof json === "object" && json !== null && Array.isArray((json as { manifests?: unknown }).manifests);
}
