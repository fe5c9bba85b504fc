/* Image archives built by the tests themselves with tar-stream: rootfs
 * tarballs, `docker save` archives and OCI layouts, honest and hostile. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

export interface TarEntry {
  readonly name: string;
  readonly type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
}

/** A tar archive of `entries`, in order. */
export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const entry of entries) {
    const type = entry.type ?? (entry.content === undefined ? "directory" : "file");
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === "directory" ? 0o755 : 0o644),
      mtime: new Date(1_700_000_000_000),
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      ...(type === "character-device" ? { devmajor: 1, devminor: 3 } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      if (type === "file") pack.entry(header, Buffer.from(entry.content ?? ""), (error) => (error ? reject(error) : resolve()));
      else pack.entry(header, (error) => (error ? reject(error) : resolve())).end(undefined);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

/** `data` compressed by the zstd tool (`apt-get install zstd`), with its `args`. */
export const zstdSync = (data: Buffer, ...args: string[]): Buffer => execFileSync("zstd", ["-q", "-c", ...args], { input: data, maxBuffer: 1 << 30 });

export interface ArchiveOptions {
  /** Replace layer i's diff_id in the config with a wrong one. */
  readonly wrongDiffId?: number;
  /** Gzip the layers (OCI). */
  readonly gzipLayers?: boolean;
  /** Compress the layers with zstd (OCI: tar+zstd): with the zstd tool, or with this function of the layer. */
  readonly zstdLayers?: boolean | ((layer: Buffer) => Buffer);
  readonly env?: readonly string[];
}

function config(layers: readonly Buffer[], options: ArchiveOptions): Buffer {
  const diffIds = layers.map((layer, index) => `sha256:${index === options.wrongDiffId ? sha256("wrong") : sha256(layer)}`);
  return Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: options.env ?? ["PATH=/usr/bin:/bin"] }, rootfs: { type: "layers", diff_ids: diffIds } }));
}

/** A classic `docker save` archive: HEX/layer.tar, HEX.json config, manifest.json last. */
export async function dockerSave(layers: readonly Buffer[], options: ArchiveOptions = {}): Promise<Buffer> {
  const configJson = config(layers, options);
  const configName = `${sha256(configJson)}.json`;
  const layerNames = layers.map((layer, index) => `${sha256(`${index}:${sha256(layer)}`)}/layer.tar`);
  const entries: TarEntry[] = [];
  layers.forEach((layer, index) => {
    entries.push({ name: `${layerNames[index]!.split("/")[0]}/` }, { name: layerNames[index]!, content: layer });
  });
  entries.push({ name: configName, content: configJson });
  entries.push({ name: "manifest.json", content: JSON.stringify([{ Config: configName, RepoTags: ["test:latest"], Layers: layerNames }]) });
  return tarOf(entries);
}

/** An OCI image layout: blobs first, then index.json (pointing at a manifest), oci-layout. */
export async function ociLayout(layers: readonly Buffer[], options: ArchiveOptions & { corruptBlob?: "layer" | "manifest" } = {}): Promise<Buffer> {
  const blobs = layers.map((layer) => (options.gzipLayers === true ? gzipSync(layer) : typeof options.zstdLayers === "function" ? options.zstdLayers(layer) : options.zstdLayers === true ? zstdSync(layer) : layer));
  const configJson = config(layers, options);
  const layerType = `application/vnd.oci.image.layer.v1.tar${options.gzipLayers === true ? "+gzip" : options.zstdLayers !== undefined && options.zstdLayers !== false ? "+zstd" : ""}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha256(configJson)}`, size: configJson.length },
      layers: blobs.map((blob) => ({ mediaType: layerType, digest: `sha256:${sha256(blob)}`, size: blob.length })),
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${sha256(manifest)}`, size: manifest.length, platform: { os: "linux", architecture: "amd64" } },
    ],
  };
  const stored = (blob: Buffer, kind: "layer" | "manifest") => (options.corruptBlob === kind ? Buffer.concat([blob, Buffer.from("x")]) : blob);
  return tarOf([
    { name: "blobs/" },
    { name: "blobs/sha256/" },
    ...blobs.map((blob) => ({ name: `blobs/sha256/${sha256(blob)}`, content: stored(blob, "layer") })),
    { name: `blobs/sha256/${sha256(configJson)}`, content: configJson },
    { name: `blobs/sha256/${sha256(manifest)}`, content: stored(manifest, "manifest") },
    { name: "index.json", content: JSON.stringify(index) },
    { name: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' },
  ]);
}
