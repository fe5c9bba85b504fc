import fs from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

/** One blob of the layout: its digest, where its verified bytes are, their size. */
export interface LayoutBlob {
  readonly digest: string;
  readonly file: string;
  readonly size: number;
}

/**
 * An OCI image layout as a tar stream, built from verified blob files on the
 * fly (nothing is copied): blobs/sha256/…, then index.json naming the image
 * manifest, then oci-layout. The importer reads it like any OCI layout, so
 * its checks (digests, diff_ids, whiteouts, traversal, caps) apply as they
 * do to `warren image import`.
 */
export function ociLayoutStream(manifest: { readonly digest: string; readonly mediaType: string; readonly bytes: Buffer }, blobs: readonly LayoutBlob[]): Readable {
  const pack = tar.pack();
  const mtime = new Date(0);
  const write = async () => {
    const seen = new Set<string>();
    for (const blob of blobs) {
      if (seen.has(blob.digest)) continue; // a layer listed twice is stored once
      seen.add(blob.digest);
      const entry = pack.entry({ name: `blobs/sha256/${blob.digest.slice("sha256:".length)}`, size: blob.size, mode: 0o644, mtime });
      await pipeline(fs.createReadStream(blob.file), entry);
    }
    await add(`blobs/sha256/${manifest.digest.slice("sha256:".length)}`, manifest.bytes);
    const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length }] };
    await add("index.json", Buffer.from(JSON.stringify(index)));
    await add("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    pack.finalize();
  };
  const add = (name: string, content: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ name, mode: 0o644, mtime }, content, (error) => (error ? reject(error) : resolve()));
    });
  write().catch((error: unknown) => pack.destroy(error as Error));
  return pack as unknown as Readable;
}
