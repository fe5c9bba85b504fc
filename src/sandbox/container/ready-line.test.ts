/* A held launcher's ready line comes on its stderr (`--status-fd 2`), among
 * its diagnostics: only a line that starts with "{" is a status line. Here
 * the launcher is a stand-in script, so that what it writes, and how it is cut
 * into chunks, is the test's. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxError } from "../../errors.js";
import { Container } from "./container.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-ready-line-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in launcher running the shell script BODY (its arguments: the hold command line). */
function fakeLauncher(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const options = (launcher: string) => ({ rootfs: "/nonexistent", cgroups: [], launcher, nodeSpawn: false });

describe("the ready line on the launcher's stderr", () => {
  it("is told from the launcher's diagnostics, also when it comes in pieces; what follows it is diagnostics", async () => {
    const launcher = fakeLauncher("ready", [
      // asked for on stderr
      `case " $* " in *" --status-fd 2 "*) ;; *) echo "warren-launch: no --status-fd 2 in: $*" >&2; exit 2;; esac`,
      // a diagnostic that holds a ready line, not at its start, is a diagnostic
      `echo 'warren-launch: warning: {"ready":true,"pid":1}' >&2`,
      // the real one, cut in two writes, then more on the same chunk
      `printf '{"ready":true,' >&2; sleep 0.05; printf '"pid":4242}\\nwarren-launch: after ready\\n' >&2`,
      `cat >/dev/null`,
    ].join("\n"));
    const container = await Container.create(options(launcher));
    try {
      expect(container.pid).toBe(4242);
    } finally {
      await container.destroy();
    }
  });

  it("a failure's status line after the launcher's diagnostic: container_start_failed with both", async () => {
    const launcher = fakeLauncher("fails", [
      `echo 'warren-launch: mount-overlay: Operation not permitted' >&2`,
      `echo '{"status":"internal_error","step":"mount-overlay","errno":1,"message":"Operation not permitted"}' >&2`,
      `exit 125`,
    ].join("\n"));
    const failed = await Container.create(options(launcher)).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(SandboxError);
    expect((failed as SandboxError).code).toBe("container_start_failed");
    expect((failed as SandboxError).message).toContain("step mount-overlay failed: Operation not permitted (errno 1)");
    expect((failed as SandboxError).message).toContain("Launcher stderr: warren-launch: mount-overlay: Operation not permitted");
  });

  it("a launcher that writes only diagnostics and exits is not ready, whatever its text holds", async () => {
    const launcher = fakeLauncher("never", `echo 'warren-launch: {"ready":true,"pid":7} is not a ready line' >&2; exit 125`);
    const failed = await Container.create(options(launcher)).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(SandboxError);
    expect((failed as SandboxError).message).toMatch(/exited \(.*\) before the container was ready/);
  });
});
