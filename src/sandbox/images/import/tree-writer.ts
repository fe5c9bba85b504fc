import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { EntryBody, Header } from "./tar-entries.js";
import { ImageCorruptError, ImageRejectedError } from "../../../errors.js";
import { entryPath, parentsOf } from "./entry-path.js";
import type { ImportBudget } from "./limits.js";

const OPAQUE = ".wh..wh..opq";
const WHITEOUT = ".wh.";
const CREATE_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** What an import changed on the way in, for the person who runs it. */
export interface WriteNotes {
  /** Files whose setuid/setgid bit was dropped. */
  readonly setid: string[];
  /** Device nodes, FIFOs and unknown entry kinds that were not created. */
  readonly skipped: string[];
}

/**
 * Applies layers of tar entries to a private directory tree, safely:
 * - names are checked by entryPath (no absolute paths, no `..`);
 * - every parent of an entry must be a real directory of the tree: an entry
 *   below a symlink is refused, never written through it, and each file is
 *   created with O_CREAT|O_EXCL|O_NOFOLLOW after removing what was there;
 * - a hardlink must name a regular file already in the tree;
 * - device nodes and FIFOs are skipped (the sandbox makes its own /dev);
 * - modes lose setuid/setgid/sticky and group/other write, and gain read
 *   (and search/exec where the owner had it) for everyone: files are owned
 *   by the runner (rootless cannot chown) and, as root, read by the
 *   sandbox's unprivileged host uid;
 * - whiteouts (`.wh.NAME`) remove NAME from lower layers; an opaque marker
 *   (`.wh..wh..opq`) hides everything lower layers put in its directory.
 * The tree must be private to the importer while it is written (a temp dir
 * of mode 0700), so a check and the write that follows it see the same tree.
 */
export class TreeWriter {
  readonly notes: WriteNotes = { setid: [], skipped: [] };
  readonly #root: string;
  readonly #budget: ImportBudget;
  /** Directories with a header: their final mode and mtime, applied by finish() (a 0555 dir must stay writable until then). */
  readonly #dirs = new Map<string, { mode: number; mtime: Date | undefined }>();
  /** Paths known to be real directories (cache of lstat). */
  readonly #realDirs = new Set<string>([""]);
  /** Paths this layer created, and their parents: what an opaque marker keeps. */
  #layer = new Set<string>();

  constructor(root: string, budget: ImportBudget) {
    this.#root = root;
    this.#budget = budget;
  }

  /** Starts a new layer: whiteouts from now on apply to what the earlier layers wrote. */
  startLayer(): void {
    this.#layer = new Set();
  }

  /** Applies one tar entry; `body` is drained whatever happens. */
  async entry(header: Header, body: EntryBody): Promise<void> {
    try {
      await this.#apply(header, body);
    } finally {
      body.resume();
    }
  }

  /** Sets the directories' final modes and times (deepest first). */
  async finish(): Promise<void> {
    const dirs = [...this.#dirs.entries()].sort(([a], [b]) => b.split("/").length - a.split("/").length);
    for (const [rel, { mode, mtime }] of dirs) {
      const full = this.#full(rel);
      const stat = await fsp.lstat(full).catch(() => undefined);
      if (stat === undefined || !stat.isDirectory()) continue; // removed or replaced by a later layer
      await fsp.chmod(full, mode);
      if (mtime !== undefined) await fsp.utimes(full, mtime, mtime);
    }
    if (!this.#dirs.has("")) await fsp.chmod(this.#root, 0o755);
  }

  async #apply(header: Header, body: EntryBody): Promise<void> {
    const rel = entryPath(header.name);
    this.#budget.addFile(rel || ".");
    const base = path.posix.basename(rel);
    if (base.startsWith(WHITEOUT)) return this.#whiteout(rel, base);
    switch (header.type) {
      case "directory":
        return this.#directory(rel, header);
      case "file":
      case "contiguous-file":
        return this.#file(rel, header, body);
      case "symlink":
        return this.#symlink(rel, header);
      case "link":
        return this.#hardlink(rel, header);
      default:
        this.notes.skipped.push(`${rel} (${header.type ?? "unknown"})`);
    }
  }

  async #directory(rel: string, header: Header): Promise<void> {
    this.#dirs.set(rel, { mode: DIR_MODE, mtime: header.mtime });
    if (rel === "") return;
    await this.#parents(rel);
    const full = this.#full(rel);
    const stat = await lstatOrUndefined(full);
    if (stat?.isDirectory() !== true) {
      if (stat !== undefined) await this.#remove(rel);
      await fsp.mkdir(full, { mode: 0o755 });
      await fsp.chmod(full, 0o755);
    }
    this.#realDirs.add(rel);
    this.#touch(rel);
  }

  async #file(rel: string, header: Header, body: EntryBody): Promise<void> {
    if (rel === "") throw new ImageRejectedError("The archive has a file entry for the image's root directory itself.");
    const size = header.size ?? 0;
    this.#budget.addBytes(rel, size);
    const full = await this.#replace(rel);
    const mode = header.mode ?? 0o644;
    if ((mode & 0o6000) !== 0) this.notes.setid.push(rel);
    const handle = await fsp.open(full, CREATE_FILE, 0o600);
    try {
      let written = 0;
      for await (const chunk of body) {
        await handle.write(chunk);
        written += chunk.length;
      }
      if (written !== size) throw new ImageCorruptError(`The archive's file ${JSON.stringify(rel)} is cut short (${written} of ${size} bytes).`);
      await handle.chmod(fileMode(mode));
      if (header.mtime !== undefined) await handle.utimes(header.mtime, header.mtime);
    } finally {
      await handle.close();
    }
  }

  async #symlink(rel: string, header: Header): Promise<void> {
    const target = header.linkname ?? "";
    if (rel === "") throw new ImageRejectedError("The archive makes the image's root directory a symlink.");
    if (target === "" || target.includes("\0")) throw new ImageRejectedError(`The archive's symlink ${JSON.stringify(rel)} has an empty or invalid target.`);
    // The target is only ever resolved inside the sandbox's own root; writing the link follows nothing.
    const full = await this.#replace(rel);
    await fsp.symlink(target, full);
  }

  async #hardlink(rel: string, header: Header): Promise<void> {
    const target = entryPath(header.linkname ?? "", `hardlink target of ${JSON.stringify(rel)}`);
    if (target === rel) return;
    if (!(await this.#parents(target, false))) throw missingLinkTarget(rel, target);
    const stat = await lstatOrUndefined(this.#full(target));
    if (stat === undefined) throw missingLinkTarget(rel, target);
    if (!stat.isFile()) {
      throw new ImageRejectedError(`The archive's hardlink ${JSON.stringify(rel)} points at ${JSON.stringify(target)}, which is not a regular file of the image.`, { path: rel, target });
    }
    const full = await this.#replace(rel);
    await fsp.link(this.#full(target), full); // link(2) does not follow a symlink at either end
  }

  async #whiteout(rel: string, base: string): Promise<void> {
    const dir = path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel);
    if (!(await this.#parents(rel, false))) return; // nothing below: nothing to hide
    if (base === OPAQUE) {
      if (await this.#isRealDir(dir)) await this.#prune(dir);
      return;
    }
    const name = base.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") throw new ImageRejectedError(`The archive's whiteout ${JSON.stringify(rel)} names no entry.`);
    await this.#remove(dir === "" ? name : `${dir}/${name}`);
  }

  /** Removes everything below `dir` that this layer did not create. */
  async #prune(dir: string): Promise<void> {
    for (const name of await fsp.readdir(this.#full(dir))) {
      const child = dir === "" ? name : `${dir}/${name}`;
      if (!this.#layer.has(child)) await this.#remove(child);
      else if (await this.#isRealDir(child)) await this.#prune(child);
    }
  }

  /** Makes the parents of `rel` and removes whatever is at `rel`; returns its full path. */
  async #replace(rel: string): Promise<string> {
    await this.#parents(rel);
    const full = this.#full(rel);
    if ((await lstatOrUndefined(full)) !== undefined) await this.#remove(rel);
    this.#touch(rel);
    return full;
  }

  /**
   * Checks that every parent of `rel` is a real directory of the tree,
   * making missing ones when `create` (tar archives may omit them). Throws
   * ImageRejectedError for a parent that is a symlink or a file. Returns
   * false when a parent is missing and `create` is false.
   */
  async #parents(rel: string, create = true): Promise<boolean> {
    for (const parent of parentsOf(rel)) {
      if (this.#realDirs.has(parent)) continue;
      const full = this.#full(parent);
      const stat = await lstatOrUndefined(full);
      if (stat === undefined) {
        if (!create) return false;
        await fsp.mkdir(full, { mode: 0o755 });
        await fsp.chmod(full, 0o755);
      } else if (stat.isSymbolicLink()) {
        const target = await fsp.readlink(full);
        throw new ImageRejectedError(
          `The archive's entry ${JSON.stringify(rel)} lies below the symlink ${JSON.stringify(parent)} (-> ${JSON.stringify(target)}); Warren never writes through a symlink, so the entry must name the real path.`,
          { path: rel, symlink: parent, target },
        );
      } else if (!stat.isDirectory()) {
        throw new ImageRejectedError(`The archive's entry ${JSON.stringify(rel)} lies below ${JSON.stringify(parent)}, which is not a directory.`, { path: rel, parent });
      }
      this.#realDirs.add(parent);
    }
    if (create) for (const parent of parentsOf(rel)) this.#layer.add(parent);
    return true;
  }

  async #remove(rel: string): Promise<void> {
    if (rel === "") return;
    // fs.rm never follows symlinks: a link is removed, not what it points at.
    await fsp.rm(this.#full(rel), { recursive: true, force: true });
    if (this.#realDirs.delete(rel)) {
      const prefix = `${rel}/`;
      for (const dir of this.#realDirs) if (dir.startsWith(prefix)) this.#realDirs.delete(dir);
    }
  }

  async #isRealDir(rel: string): Promise<boolean> {
    return (await lstatOrUndefined(this.#full(rel)))?.isDirectory() === true;
  }

  #touch(rel: string): void {
    this.#layer.add(rel);
  }

  #full(rel: string): string {
    return rel === "" ? this.#root : path.join(this.#root, rel);
  }
}

/** A file's mode in the store: no setuid/setgid/sticky, no group/other write, readable by all, executable by all if by its owner. */
export function fileMode(mode: number): number {
  let result = (mode & 0o755) | 0o444;
  if ((mode & 0o100) !== 0) result |= 0o111;
  return result;
}

/**
 * A directory's mode in the store, whatever the archive says: searchable and
 * readable by all, writable by the owner only (the runner must be able to
 * remove the image; sandboxes write to their own scratch layer).
 */
export const DIR_MODE = 0o755;

function missingLinkTarget(rel: string, target: string): ImageRejectedError {
  return new ImageRejectedError(`The archive's hardlink ${JSON.stringify(rel)} points at ${JSON.stringify(target)}, which is not in the image (a hardlink must name a file stored before it).`, {
    path: rel,
    target,
  });
}

async function lstatOrUndefined(full: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.lstat(full);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
