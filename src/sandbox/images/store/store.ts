import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import { ImageInUseError, ImageNotFoundError, InvalidRequestError } from "../../../errors.js";
import { extractImage, type ArchiveFormat, type ExtractedImage } from "../import/extract-image.js";
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from "../import/limits.js";
import type { WriteNotes } from "../import/tree-writer.js";
import { StoreLayout } from "./layout.js";
import { acquireLease, liveLeases, markerIsLive, markRemoving, processStartTime, unmarkRemoving, type ImageLease } from "./lease.js";
import { contentSchema, imageNameSchema, nameRecordSchema, type ContentRecord, type NameRecord } from "./schemas.js";

/** The digest's version prefix: changes whenever the import's transformation does, so old stores are not mistaken for new ones. */
const DIGEST_PREFIX = "warren-image-v1\n";

/** The name of the built-in image, which the store never holds. */
export const HOST_IMAGE = "host";

export interface InstallOptions {
  readonly name: string;
  /** @defaultValue "auto" */
  readonly format?: ArchiveFormat;
  /** @defaultValue DEFAULT_IMPORT_LIMITS */
  readonly limits?: ImportLimits;
  readonly description?: string;
  readonly source: NameRecord["source"];
  /** Base environment; the archive's own (docker/OCI config) fills in what this leaves out. */
  readonly env?: Readonly<Record<string, string>>;
  readonly languages?: NameRecord["languages"];
}

export interface InstallResult {
  readonly record: NameRecord;
  readonly content: ContentRecord;
  /** The same content was already stored (under this or another name): nothing new was written. */
  readonly reused: boolean;
  readonly notes: WriteNotes;
}

export interface StoredImage {
  readonly record: NameRecord;
  readonly hex: string;
  readonly rootfs: string;
}

/**
 * The image store: content-addressed root filesystems and a name index
 * (layout.ts). Imports are atomic (built in tmp/, then renamed into place),
 * and an image in use by a sandbox is never removed under it (lease.ts).
 */
export class ImageStore {
  readonly layout: StoreLayout;

  constructor(dataDir: string) {
    this.layout = new StoreLayout(dataDir);
  }

  /** The named images, by name. An unreadable name file is skipped (and reported by `warren image ls`). */
  list(): StoredImage[] {
    let files: string[];
    try {
      files = fs.readdirSync(this.layout.namesDir).filter((file) => file.endsWith(".json"));
    } catch {
      return [];
    }
    const images: StoredImage[] = [];
    for (const file of files.sort()) {
      const image = this.#read(file.slice(0, -".json".length));
      if (image !== undefined) images.push(image);
    }
    return images;
  }

  get(name: string): StoredImage | undefined {
    if (!imageNameSchema.safeParse(name).success) return undefined;
    return this.#read(name);
  }

  /** get(), or ImageNotFoundError listing what is installed. */
  require(name: string): StoredImage {
    const image = this.get(name);
    if (image === undefined) throw new ImageNotFoundError(name, [HOST_IMAGE, ...this.list().map((entry) => entry.record.name)]);
    return image;
  }

  content(hex: string): ContentRecord {
    return contentSchema.parse(JSON.parse(fs.readFileSync(this.layout.contentFile(hex), "utf8")));
  }

  /**
   * Imports an image archive (streamed) and names it. Content already in
   * the store is not stored twice. On any failure nothing is left behind.
   */
  async install(input: Readable, options: InstallOptions): Promise<InstallResult> {
    const name = checkName(options.name);
    const work = await this.#workDir("import");
    let extracted: ExtractedImage;
    try {
      extracted = await extractImage(input, path.join(work, "rootfs"), path.join(work, "spool"), {
        limits: options.limits ?? DEFAULT_IMPORT_LIMITS,
        format: options.format ?? "auto",
      });
    } catch (error) {
      input.destroy();
      await fsp.rm(work, { recursive: true, force: true });
      throw error;
    }
    try {
      const hex = createHash("sha256").update(DIGEST_PREFIX + extracted.diffIds.join("\n")).digest("hex");
      const content: ContentRecord = {
        digest: `sha256:${hex}`,
        format: extracted.format,
        diffIds: [...extracted.diffIds],
        files: extracted.files,
        bytes: extracted.bytes,
        importedAt: new Date().toISOString(),
      };
      await fsp.rm(path.join(work, "spool"), { recursive: true, force: true });
      await fsp.writeFile(path.join(work, "content.json"), `${JSON.stringify(content, null, 2)}\n`, { mode: 0o644 });
      await fsp.chmod(work, 0o755);
      const reused = await this.#commit(work, hex);
      const previous = this.get(name);
      const record = nameRecordSchema.parse({
        name,
        digest: `sha256:${hex}`,
        description: options.description ?? "",
        createdAt: new Date().toISOString(),
        source: options.source,
        env: { ...envFromConfig(extracted.env), ...options.env },
        languages: options.languages ?? [],
        versions: {},
      });
      this.writeRecord(record);
      if (previous !== undefined && previous.hex !== hex) await this.#collect(previous.hex, 0).catch(() => {}); // in use: a later rm or install collects it
      return { record, content: reused ? this.content(hex) : content, reused, notes: extracted.notes };
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }

  /** Writes a name record atomically (temp file, then rename). */
  writeRecord(record: NameRecord): void {
    fs.mkdirSync(this.layout.namesDir, { recursive: true, mode: 0o755 });
    const file = this.layout.nameFile(checkName(record.name));
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    fs.renameSync(temp, file);
  }

  /**
   * Removes the name; the content too when no other name uses it. While
   * sandboxes use it, waits up to `waitMs` for them to finish, then refuses
   * with ImageInUseError.
   */
  async remove(name: string, waitMs = 0): Promise<{ readonly contentRemoved: boolean }> {
    if (name === HOST_IMAGE) throw new InvalidRequestError("The host image is built in (it is the host's own /usr); it cannot be removed.");
    const image = this.require(name);
    const shared = this.list().some((other) => other.record.name !== name && other.hex === image.hex);
    if (shared) {
      fs.rmSync(this.layout.nameFile(name), { force: true });
      return { contentRemoved: false };
    }
    await this.#collect(image.hex, waitMs, name);
    return { contentRemoved: true };
  }

  /** Claims a stored image for one sandbox (lease.ts); ImageNotFoundError when it is gone or being removed. */
  acquire(name: string, hex: string): ImageLease {
    const lease = acquireLease(this.layout, hex);
    if (lease === undefined) throw new ImageNotFoundError(name, this.list().map((entry) => entry.record.name), "is being removed or is gone");
    return lease;
  }

  /** Removes what crashed imports and removals left in tmp/ (their process is gone). */
  sweep(): void {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.layout.tmpDir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const [, pid, start] = /^\w+-(\d+)-(\d+)-/.exec(entry) ?? [];
      if (pid !== undefined && processStartTime(Number(pid)) === Number(start)) continue;
      fs.rmSync(path.join(this.layout.tmpDir, entry), { recursive: true, force: true });
    }
  }

  /** Renames a finished import into place; true when that content was there already. */
  async #commit(work: string, hex: string): Promise<boolean> {
    if (markerIsLive(this.layout, hex)) {
      throw new ImageInUseError(`The same image content (sha256:${hex}) is being removed right now; retry the import when \`warren image rm\` is done.`);
    }
    if (fs.existsSync(this.layout.contentFile(hex))) return true;
    await fsp.mkdir(this.layout.contentRoot, { recursive: true, mode: 0o755 });
    try {
      await fsp.rename(work, this.layout.contentDir(hex));
      return false;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === "ENOTEMPTY" || code === "EEXIST") && fs.existsSync(this.layout.contentFile(hex))) return true; // a concurrent import of the same content won
      throw error;
    }
  }

  /** Removes sha256/HEX (and the name, if given) once no sandbox uses it. */
  async #collect(hex: string, waitMs: number, name?: string): Promise<void> {
    if (!markRemoving(this.layout, hex)) throw new ImageInUseError(`Another \`warren image rm\` is removing ${name ?? `sha256:${hex}`} right now.`);
    try {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const pids = liveLeases(this.layout, hex);
        if (pids.length === 0) break;
        if (Date.now() >= deadline) {
          const who = [...new Set(pids)].join(", ");
          throw new ImageInUseError(
            `Image ${name ?? `sha256:${hex}`} is in use by ${pids.length} running sandbox${pids.length === 1 ? "" : "es"} (pid ${who}); retry when they finish, or pass --wait SECONDS.`,
            { pids },
          );
        }
        await sleep(200);
      }
      if (name !== undefined) fs.rmSync(this.layout.nameFile(name), { force: true });
      const trash = await this.#workDir("trash");
      await fsp.rename(this.layout.contentDir(hex), path.join(trash, hex)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
      await fsp.rm(trash, { recursive: true, force: true });
      fs.rmSync(this.layout.leasesDir(hex), { recursive: true, force: true });
    } finally {
      unmarkRemoving(this.layout, hex);
    }
  }

  /** A private directory in tmp/ named after this process, so sweep() can tell a live one. */
  async #workDir(kind: string): Promise<string> {
    await fsp.mkdir(this.layout.tmpDir, { recursive: true, mode: 0o755 });
    const dir = await fsp.mkdtemp(path.join(this.layout.tmpDir, `${kind}-${process.pid}-${processStartTime(process.pid) ?? 0}-`));
    await fsp.chmod(dir, 0o700);
    return dir;
  }

  #read(name: string): StoredImage | undefined {
    let parsed: z.ZodSafeParseResult<NameRecord>;
    try {
      parsed = nameRecordSchema.safeParse(JSON.parse(fs.readFileSync(this.layout.nameFile(name), "utf8")));
    } catch {
      return undefined;
    }
    if (!parsed.success || parsed.data.name !== name) return undefined;
    const hex = parsed.data.digest.slice("sha256:".length);
    return { record: parsed.data, hex, rootfs: this.layout.rootfs(hex) };
  }
}

function checkName(name: string): string {
  if (name === HOST_IMAGE) throw new InvalidRequestError("The name `host` belongs to the built-in host image; choose another name.");
  const parsed = imageNameSchema.safeParse(name);
  if (!parsed.success) throw new InvalidRequestError(`Image name ${JSON.stringify(name)} is not allowed: ${parsed.error.issues[0]?.message ?? "invalid"}.`);
  return parsed.data;
}

/** A docker/OCI config's `KEY=VALUE` list as a record. */
function envFromConfig(env: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of env) {
    const equals = entry.indexOf("=");
    if (equals > 0) result[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return result;
}
