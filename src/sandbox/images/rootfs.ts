import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ImageError } from "../../errors.js";
import type { SkeletonPlan } from "./skeleton.js";

const STAMP = ".warren-skeleton";

/**
 * Makes the skeleton described by `plan` at `dir` once: built in a temp dir
 * beside it and renamed into place, so a reader never sees half of one, and
 * two runners racing both end up with a complete one. World-readable: as root,
 * the sandbox user is uid 65534 on the host and must read it.
 * Returns `dir`.
 */
export function ensureRootfs(dir: string, plan: SkeletonPlan): string {
  const stamp = crypto.createHash("sha256").update(JSON.stringify(plan)).digest("hex");
  if (readStamp(dir) === stamp) return dir;
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  const temp = fs.mkdtempSync(path.join(parent, `${path.basename(dir)}.tmp-`));
  try {
    fs.chmodSync(temp, 0o755);
    build(temp, plan);
    fs.writeFileSync(path.join(temp, STAMP), stamp, { mode: 0o644 });
    if (fs.existsSync(dir)) {
      if (readStamp(dir) === stamp) return dir;
      // An outdated skeleton may still be the lower layer of a live container:
      // move it aside instead of deleting it under that container.
      fs.renameSync(dir, `${dir}.old-${Date.now()}-${process.pid}`);
    }
    try {
      fs.renameSync(temp, dir);
    } catch (error) {
      if (readStamp(dir) !== stamp) throw error; // someone else won the race with the same skeleton: fine
    }
  } catch (error) {
    throw new ImageError(`Cannot make the image root ${dir}: ${(error as Error).message}`, { cause: error });
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return dir;
}

function build(root: string, plan: SkeletonPlan): void {
  for (const dir of plan.dirs) {
    const full = path.join(root, dir);
    fs.mkdirSync(full, { recursive: true, mode: 0o755 });
    fs.chmodSync(full, dir === "tmp" || dir === "var/tmp" ? 0o1777 : 0o755);
  }
  for (const file of plan.files) fs.writeFileSync(path.join(root, file), "", { mode: 0o644, flag: "wx" });
  for (const link of plan.symlinks) fs.symlinkSync(link.target, path.join(root, link.path));
  for (const file of plan.generated) {
    fs.writeFileSync(path.join(root, file.path), file.content, { mode: 0o644, flag: "wx" });
    fs.chmodSync(path.join(root, file.path), 0o644);
  }
}

function readStamp(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, STAMP), "utf8");
  } catch {
    return undefined;
  }
}
