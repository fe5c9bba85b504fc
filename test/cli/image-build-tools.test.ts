import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_WARREN_FAILED } from "../../src/cli/exit-code.js";
import { warrenBin } from "../helpers/cli.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warren-build-tools-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The real CLI (bin/warren.js) with only `binDir` on PATH. */
function imageBuild(binDir: string) {
  const result = spawnSync(process.execPath, [warrenBin(), "image", "build", "python", "--mirror", "http://127.0.0.1:9/debian"], {
    cwd: repo,
    env: { PATH: binDir, HOME: scratch, WARREN_DATA_DIR: path.join(scratch, "data") },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

/** No stack trace, no Node internals: one message a person can act on. */
function expectClean(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/node:events|Unhandled 'error' event|Node\.js v\d/);
}

describe("warren image build, when mmdebstrap cannot do its work", () => {
  it("is not installed: one clean message with the install advice, exit 125", () => {
    const empty = fs.mkdtempSync(path.join(scratch, "empty-path-"));
    const { status, stderr } = imageBuild(empty);
    expectClean(stderr);
    expect(stderr.trim()).toBe(
      "mmdebstrap is not installed (not found on PATH); install it with `sudo apt-get install -y mmdebstrap` (Debian/Ubuntu), or import a built image instead (`warren image import`).",
    );
    expect(status).toBe(EXIT_WARREN_FAILED);
  });

  it("is not executable: program_start_failed's message, exit 125", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "noexec-"));
    fs.writeFileSync(path.join(dir, "mmdebstrap"), "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const { status, stderr } = imageBuild(dir);
    expectClean(stderr);
    // as root, execve still refuses a file with no execute bit at all: EACCES
    expect(stderr.trim()).toMatch(/^mmdebstrap could not be started \(EACCES\); install it with `sudo apt-get install -y mmdebstrap`/);
    expect(status).toBe(EXIT_WARREN_FAILED);
  });

  it("fails at once, before the importer reads: its own messages, then one clean line, exit 125", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "failing-"));
    fs.writeFileSync(path.join(dir, "mmdebstrap"), "#!/bin/sh\necho 'fake mmdebstrap: cannot reach the mirror' >&2\nexit 1\n", { mode: 0o755 });
    const { status, stderr } = imageBuild(dir);
    expectClean(stderr);
    const lines = stderr.trim().split("\n");
    expect(lines[0]).toBe("fake mmdebstrap: cannot reach the mirror");
    expect(lines.slice(1).join("\n")).toMatch(/^mmdebstrap failed \(exit code 1\); its messages are above\. Command: mmdebstrap --mode=auto .* bookworm - http:\/\/127\.0\.0\.1:9\/debian$/);
    expect(status).toBe(EXIT_WARREN_FAILED);
    // nothing was stored, and the import's work dir is gone
    expect(fs.existsSync(path.join(scratch, "data", "images", "names", "python.json"))).toBe(false);
    expect(fs.readdirSync(path.join(scratch, "data", "images", "tmp"))).toEqual([]);
  });
});
