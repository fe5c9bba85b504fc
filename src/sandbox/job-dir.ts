import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InvalidRequestError } from "../errors.js";
import { checkFilePath } from "./file-path.js";

/** A file of a job, as it will appear below the container's work dir. */
export interface JobFile {
  /** Relative path; checked by checkFilePath. */
  readonly path: string;
  readonly content: Buffer | string;
}

/** Who must be able to read the directory besides us. */
export interface JobDirOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes `files` into a fresh private directory (mkdtemp, 0700) for
 * `--copy-in` and returns it. Every path is checked first; files are created
 * with O_EXCL inside a directory only we can write, so nothing can be planted
 * in between. The caller removes the directory (removeJobDir).
 *
 * The launcher opens the directory as the sandbox identity. When Warren runs
 * as root that is another host uid (65534), so `owner` hands the finished
 * tree to it: still unreadable by anyone else.
 */
export async function writeJobDir(files: readonly JobFile[], owner?: JobDirOwner): Promise<string> {
  for (const file of files) checkFilePath(file.path);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "warren-job-"));
  try {
    for (const file of files) {
      const target = path.join(dir, file.path);
      try {
        await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        await fs.writeFile(target, file.content, { flag: "wx", mode: 0o644 });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") {
          throw new InvalidRequestError(`File path ${JSON.stringify(file.path)} clashes with another file of the job.`);
        }
        throw error;
      }
    }
    if (owner !== undefined) await chownTree(dir, owner);
  } catch (error) {
    await removeJobDir(dir);
    throw error;
  }
  return dir;
}

export async function removeJobDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

async function chownTree(dir: string, owner: JobDirOwner): Promise<void> {
  await fs.chown(dir, owner.uid, owner.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    await fs.lchown(path.join(entry.parentPath, entry.name), owner.uid, owner.gid);
  }
}
