/* The disk under WARREN_DATA_DIR fills up: an import fails with a message a
 * person can act on, nothing half-made stays in the store, and runs go on. */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tarOf } from "../images/archives.js";
import { warrenBin } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;
let dir = "";

function warren(args: string[], dataDir: string) {
  return spawnSync(process.execPath, [warrenBin(), ...args], {
    env: { ...process.env, WARREN_DATA_DIR: dataDir },
    encoding: "utf8",
    timeout: 120_000,
  });
}

// A full disk is made with a 3 MiB tmpfs, which only root can mount: the
// unprivileged suites (scripts/test-rootless.sh) do not run test/faults.
describe.runIf(isRoot)("a full disk under WARREN_DATA_DIR (root: mounts a small tmpfs)", () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-full-disk-"));
    fs.chmodSync(dir, 0o755); // the sandbox user (65534 under root) reads the image below it
    fs.mkdirSync(path.join(dir, "disk"));
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", path.join(dir, "disk")]);
    if (mounted.status !== 0) throw new Error(`mount failed: ${String(mounted.stderr)}`);
  });
  afterAll(() => {
    spawnSync("umount", [path.join(dir, "disk")]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("an import that does not fit fails clearly, leaves nothing, and runs still work", async () => {
    const data = path.join(dir, "disk", "data");
    const archive = path.join(dir, "big.tar");
    // 4 MiB of incompressible content cannot fit on a 3 MiB disk
    fs.writeFileSync(archive, await tarOf([{ name: "usr/" }, { name: "blob", content: crypto.randomBytes(4 << 20) }]));
    const imported = warren(["image", "import", archive, "--name", "big"], data);
    expect(imported.status).toBe(125);
    expect(imported.stderr).toContain("the disk is full");
    expect(imported.stderr).not.toContain("    at "); // a message, not a stack trace
    expect(fs.readdirSync(path.join(data, "images", "tmp"))).toEqual([]);
    const ls = warren(["image", "ls"], data);
    expect(ls.status).toBe(0);
    expect(ls.stdout).not.toContain("big");
    const program = path.join(dir, "hello.py");
    fs.writeFileSync(program, 'print("still running")\n');
    const ran = warren(["run", program], data);
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toBe("still running\n");
    expect(ran.status).toBe(0);
  });
});
