import { createReadStream } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { EntryBody, Header } from "./tar-entries.js";
import { ImageCorruptError, ImageRejectedError } from "../../../errors.js";
import { planArchive } from "./archive-manifest.js";
import { decompressed } from "./decompress.js";
import { entryPath } from "./entry-path.js";
import { ImportBudget, type ImportLimits } from "./limits.js";
import { Spool } from "./spool.js";
import { forEachEntry } from "./tar-entries.js";
import { TreeWriter, type WriteNotes } from "./tree-writer.js";

export const ARCHIVE_FORMATS = ["auto", "rootfs", "docker", "oci"] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export interface ExtractOptions {
  readonly limits: ImportLimits;
  /** @defaultValue "auto": told apart by the archive's first entries */
  readonly format?: ArchiveFormat;
}

/** A root filesystem extracted from an archive. */
export interface ExtractedImage {
  readonly format: "rootfs" | "docker" | "oci";
  /** sha256 (hex) of each uncompressed layer, lowest first: what the image's digest is made of. */
  readonly diffIds: readonly string[];
  /** The image config's environment (`KEY=VALUE`); empty for a rootfs tarball. */
  readonly env: readonly string[];
  readonly notes: WriteNotes;
  readonly files: number;
  readonly bytes: number;
}

/**
 * Extracts the image archive `input` (gzip, zstd or plain) into `root`, streamed:
 * a rootfs tarball is applied as it is read; the files of a `docker save`
 * archive or an OCI layout are spooled to `spoolDir` (the manifest that
 * orders the layers may come last), then the layers are applied in order,
 * each checked against its digests. `root` must be a fresh private
 * directory; on failure it holds a partial tree the caller removes.
 */
export async function extractImage(input: Readable, root: string, spoolDir: string, options: ExtractOptions): Promise<ExtractedImage> {
  await fsp.mkdir(root, { mode: 0o700 });
  const budget = new ImportBudget(options.limits);
  const writer = new TreeWriter(root, budget);
  const spool = new Spool(spoolDir, budget);
  let decided: "rootfs" | "archive" | undefined = formatKind(options.format ?? "auto");
  const pending: Header[] = [];

  const outer = await decompressed(input, "The archive");
  let entries = 0;
  const outerDigest = await forEachEntry(outer, "The archive", async (header, body) => {
    entries++;
    if (decided === undefined) {
      const kind = classify(entryPath(header.name), header.type);
      if (kind === undefined) {
        pending.push(header); // a directory that could begin either kind; it has no body
        return;
      }
      decided = kind;
      if (kind === "rootfs") for (const dir of pending) await writer.entry(dir, emptyStream());
    }
    if (decided === "rootfs") return writer.entry(header, body);
    return spoolEntry(spool, header, body);
  });

  if (entries === 0) throw new ImageCorruptError("The archive holds no entries: it is empty or not a tar archive.");
  if (decided !== "archive") {
    if (decided === undefined) for (const dir of pending) await writer.entry(dir, emptyStream());
    await writer.finish();
    return { format: "rootfs", diffIds: [outerDigest], env: [], notes: writer.notes, files: budget.files, bytes: budget.bytes };
  }
  const plan = await planArchive(spool);
  const diffIds: string[] = [];
  for (const [index, layer] of plan.layers.entries()) {
    writer.startLayer();
    const what = `Layer ${index + 1} (${layer.name})`;
    const stream = await decompressed(createReadStream(layer.blob.file), what);
    const diffId = await forEachEntry(stream, what, (header, body) => writer.entry(header, body));
    if (layer.diffId !== undefined && layer.diffId !== diffId) {
      throw new ImageCorruptError(`${what} does not match the image config: its content has sha256:${diffId}, the config says sha256:${layer.diffId}.`, { details: { expected: layer.diffId, actual: diffId } });
    }
    diffIds.push(diffId);
    await fsp.rm(layer.blob.file, { force: true }).catch(() => {}); // an applied layer's blob is not needed again unless listed twice
  }
  await writer.finish();
  return { format: plan.format, diffIds, env: plan.env, notes: writer.notes, files: budget.files, bytes: budget.bytes };
}

function formatKind(format: ArchiveFormat): "rootfs" | "archive" | undefined {
  if (format === "auto") return undefined;
  return format === "rootfs" ? "rootfs" : "archive";
}

const ARCHIVE_FILES = /^(oci-layout|index\.json|manifest\.json|repositories|blobs\/sha256\/[0-9a-f]{64}|[0-9a-f]{64}\.json|[0-9a-f]{64}\/(VERSION|json|layer\.tar))$/;
const ARCHIVE_DIRS = /^(|blobs|blobs\/sha256|[0-9a-f]{64})$/;

/** Which kind an archive is, from one entry; undefined while the entries seen fit both. */
function classify(rel: string, type: Header["type"]): "rootfs" | "archive" | undefined {
  if (type === "directory" && ARCHIVE_DIRS.test(rel)) return undefined;
  return ARCHIVE_FILES.test(rel) ? "archive" : "rootfs";
}

async function spoolEntry(spool: Spool, header: Header, body: EntryBody): Promise<void> {
  const rel = entryPath(header.name);
  switch (header.type) {
    case "file":
    case "contiguous-file":
      return spool.add(rel, header.size ?? 0, body);
    case "symlink":
      spool.alias(rel, entryPath(path.posix.join(path.posix.dirname(rel), header.linkname ?? ""), `link target of ${JSON.stringify(rel)}`));
      return;
    case "link":
      spool.alias(rel, entryPath(header.linkname ?? "", `link target of ${JSON.stringify(rel)}`));
      return;
    case "directory":
      return;
    default:
      throw new ImageRejectedError(`The image archive holds ${JSON.stringify(rel)} of kind ${header.type ?? "unknown"}; an OCI layout or docker save archive holds files and directories only.`);
  }
}


function emptyStream(): EntryBody {
  return { resume: () => undefined, [Symbol.asyncIterator]: async function* () {} };
}
