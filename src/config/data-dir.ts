import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { WarrenError } from "../errors.js";
import type { DataDirSettings } from "./settings.js";

/**
 * Where Warren keeps images and state:
 * 1. `WARREN_DATA_DIR` when set;
 * 2. `/var/lib/warren` for root;
 * 3. `$XDG_DATA_HOME/warren` or `~/.local/share/warren` when HOME is writable;
 * 4. `$TMPDIR/warren-<uid>` otherwise (e.g. `nobody`, whose HOME does not exist).
 * The directory is created (0755: the sandbox user must read the images in it).
 */
export function resolveDataDir(settings: DataDirSettings): string {
  if (settings.explicit !== undefined) return ensureDir(path.resolve(settings.explicit), false);
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return ensureDir("/var/lib/warren", false);
  const base = settings.xdgDataHome ?? path.join(settings.home, ".local", "share");
  if (isWritableOrCreatable(base)) return ensureDir(path.join(base, "warren"), false);
  return ensureDir(path.join(os.tmpdir(), `warren-${uid}`), true);
}

function isWritableOrCreatable(dir: string): boolean {
  let probe = dir;
  for (;;) {
    try {
      fs.accessSync(probe, fs.constants.W_OK | fs.constants.X_OK);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return false;
    }
    const parent = path.dirname(probe);
    if (parent === probe) return false;
    probe = parent;
  }
}

/**
 * Makes `dir` (0755). In a shared temp dir (`shared`), another user could have
 * planted the path first, so it must be a real directory owned by us and not
 * writable by others.
 */
function ensureDir(dir: string, shared: boolean): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (shared) {
    const stat = fs.lstatSync(dir);
    const uid = process.getuid?.() ?? 0;
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) {
      throw new WarrenError(
        "data_dir_unsafe",
        `${dir} is not a directory owned by uid ${uid} and writable only by it; set WARREN_DATA_DIR to a directory of your own.`,
      );
    }
  }
  return dir;
}
