import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertSandboxCanReach } from "./sandbox-reach.js";

describe("assertSandboxCanReach", () => {
  it.runIf(process.getuid?.() === 0)("as root, names the directory the sandbox user cannot pass (root only: rootless needs no check)", () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "warren-reach-")); // mkdtemp: mode 0700
    const inner = path.join(top, "images", "rootfs");
    fs.mkdirSync(inner, { recursive: true });
    try {
      expect(() => assertSandboxCanReach(inner)).toThrow(`${top} is mode 700`);
      fs.chmodSync(top, 0o755);
      expect(() => assertSandboxCanReach(inner)).not.toThrow();
    } finally {
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
});
