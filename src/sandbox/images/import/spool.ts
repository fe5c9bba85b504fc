import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { ImageCorruptError, ImageRejectedError } from "../../../errors.js";
import { entryPath } from "./entry-path.js";
import type { ImportBudget } from "./limits.js";
import type { EntryBody } from "./tar-entries.js";

export interface SpooledFile {
  /** Where the bytes are on disk. */
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

const MAX_JSON_BYTES = 4 * 1024 * 1024;

/**
 * The files of an image archive (docker save, OCI layout) kept on disk until
 * the whole archive has been read — the manifest that orders the layers may
 * come last — each with its sha256, computed on the way in. Links inside
 * the archive (docker save dedupes layers with them) are kept as aliases.
 */
export class Spool {
  readonly #dir: string;
  readonly #budget: ImportBudget;
  readonly #files = new Map<string, SpooledFile>();
  readonly #aliases = new Map<string, string>();
  #count = 0;

  constructor(dir: string, budget: ImportBudget) {
    this.#dir = dir;
    this.#budget = budget;
  }

  async add(rel: string, size: number, body: EntryBody): Promise<void> {
    this.#budget.addBytes(rel, size, "spooled");
    await fsp.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.#dir, String(this.#count++));
    const hash = createHash("sha256");
    const handle = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    let written = 0;
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        await handle.write(chunk);
        written += chunk.length;
      }
    } finally {
      await handle.close();
    }
    if (written !== size) throw new ImageCorruptError(`The archive's file ${JSON.stringify(rel)} is cut short (${written} of ${size} bytes).`);
    this.#files.set(rel, { file, sha256: hash.digest("hex"), size });
  }

  /** Records `rel` as another name of `target` (both archive paths). */
  alias(rel: string, target: string): void {
    this.#aliases.set(rel, target);
  }

  has(rel: string): boolean {
    return this.#resolve(rel) !== undefined;
  }

  /** The spooled file at archive path `rel` (following aliases), or throws ImageCorruptError. */
  get(rel: string, what: string): SpooledFile {
    const found = this.#resolve(entryPath(rel, what));
    if (found === undefined) throw new ImageCorruptError(`The archive names ${what} ${JSON.stringify(rel)}, but does not contain it.`);
    return found;
  }

  /** The blob of an OCI/registry digest (`sha256:HEX`), its content checked against the digest. */
  blob(digest: string, what: string): SpooledFile {
    const hex = sha256Hex(digest, what);
    const found = this.get(`blobs/sha256/${hex}`, what);
    if (found.sha256 !== hex) {
      throw new ImageCorruptError(`The archive's ${what} does not match its digest: expected sha256:${hex}, got sha256:${found.sha256}.`, { details: { expected: hex, actual: found.sha256 } });
    }
    return found;
  }

  /** Parses a spooled JSON file (at most 4 MiB). */
  async json(found: SpooledFile, what: string): Promise<unknown> {
    if (found.size > MAX_JSON_BYTES) throw new ImageCorruptError(`The archive's ${what} is larger than 4 MiB; it is not an image manifest.`);
    try {
      return JSON.parse(await fsp.readFile(found.file, "utf8"));
    } catch (error) {
      throw new ImageCorruptError(`The archive's ${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }

  #resolve(rel: string): SpooledFile | undefined {
    let current = rel;
    for (let hops = 0; hops < 16; hops++) {
      const file = this.#files.get(current);
      if (file !== undefined) return file;
      const next = this.#aliases.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    throw new ImageRejectedError(`The archive's links around ${JSON.stringify(rel)} form a loop.`);
  }
}

/** The hex of a `sha256:HEX` digest; other algorithms are refused. */
export function sha256Hex(digest: string, what: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match === null) throw new ImageCorruptError(`The archive's ${what} has the digest ${JSON.stringify(digest)}; Warren reads sha256 digests only.`);
  return match[1]!;
}
