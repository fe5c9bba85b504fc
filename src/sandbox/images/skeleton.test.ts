import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadImageRecipe } from "./recipe.js";
import { ensureRootfs } from "./rootfs.js";
import { planSkeleton } from "./skeleton.js";

const recipe = loadImageRecipe("host");

/** A fake host: which paths exist and how (lstat results). */
function fakeHost(entries: Record<string, "dir" | "file" | "link">) {
  return (file: string) => {
    const kind = entries[file];
    if (kind === undefined) return undefined;
    return { isDirectory: () => kind === "dir", isSymbolicLink: () => kind === "link" } as fs.Stats;
  };
}

describe("planSkeleton", () => {
  it("binds /usr, never all of /etc, and drops missing optional binds", () => {
    const plan = planSkeleton(recipe, fakeHost({ "/usr": "dir", "/etc/ld.so.cache": "file", "/etc/ssl/certs": "dir", "/bin": "dir" }));
    expect(plan.binds.map((bind) => bind.target)).toEqual(["/usr", "/etc/ld.so.cache", "/etc/ssl/certs", "/bin"]);
    expect(plan.binds.some((bind) => bind.source === "/etc")).toBe(false);
    expect(plan.files).toEqual(["etc/ld.so.cache"]);
    expect(plan.dirs).toEqual(expect.arrayContaining(["usr", "etc/ssl/certs", "etc/ssl", "bin", "proc", "dev", "tmp", "box"]));
    expect(plan.generated.map((file) => file.path)).toEqual(["etc/passwd", "etc/group", "etc/hostname", "etc/hosts", "etc/nsswitch.conf"]);
  });
});

describe("ensureRootfs", () => {
  it("builds a world-readable skeleton once and keeps it", () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), "warren-rootfs-test-"));
    try {
      const plan = planSkeleton(recipe);
      const dir = ensureRootfs(path.join(parent, "rootfs"), plan);
      expect(fs.readFileSync(path.join(dir, "etc/passwd"), "utf8")).toContain("box:x:1000:1000:");
      expect(fs.statSync(path.join(dir, "etc/passwd")).mode & 0o777).toBe(0o644);
      expect(fs.statSync(path.join(dir, "usr")).mode & 0o777).toBe(0o755);
      const inode = fs.statSync(dir).ino;
      ensureRootfs(path.join(parent, "rootfs"), plan);
      expect(fs.statSync(dir).ino).toBe(inode);
      expect(fs.readdirSync(parent)).toEqual(["rootfs"]);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
