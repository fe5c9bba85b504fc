/* `warren run` inside a container's restrictions (test/helpers/contain.c):
 * a masked /proc refused unless WARREN_BIND_PROC=1 is set, and a refused
 * sethostname lived with. The whole command runs inside them, as it would in
 * a container, so the setting travels the real path to every launcher. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contained, kernelRefusesFreshProc, type Containment } from "../helpers/contain.js";
import { testEnv, TIME_SCALE } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

const repo = path.resolve(import.meta.dirname, "../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warren-run-contained-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function warrenRun(source: string, how: Containment, env: Record<string, string> = {}) {
  const file = path.join(scratch, "main.py");
  fs.writeFileSync(file, source);
  const argv = contained(how, [process.execPath, warrenBin(), "run", file]);
  return spawnSync(argv[0]!, argv.slice(1), { cwd: repo, env: { ...testEnv(), ...env }, encoding: "utf8", timeout: 60_000 * TIME_SCALE });
}

const probe = `
import os, socket
print(len(open("/proc/keys").read()), os.readlink("/proc/self") == str(os.getpid()), socket.gethostname())`;

describe("warren run inside a container", () => {
  // skipped where the kernel itself allows a fresh procfs under the mask (test/helpers/contain.ts)
  it.runIf(kernelRefusesFreshProc(["/proc/keys"]))("a masked /proc: exit 125, the refusal names the runtime's options and WARREN_BIND_PROC", () => {
    const run = warrenRun(probe, { mask: ["/proc/keys"] });
    expect(run.status).toBe(125);
    for (const words of ["step mount-proc", "unmask=/proc/*", "systempaths=unconfined", "procMount: Unmasked", "WARREN_BIND_PROC=1"]) expect(run.stderr).toContain(words);
  });

  it("a masked /proc with WARREN_BIND_PROC=1: the program runs on the bound /proc, masked", () => {
    const run = warrenRun(probe, { mask: ["/proc/keys"] }, { WARREN_BIND_PROC: "1" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("0 False warren\n"); // /proc/keys masked; /proc/self is the outer pid namespace's
    expect(run.status).toBe(0);
  });

  it("sethostname refused: the program runs, and sees the outer hostname", () => {
    const run = warrenRun(probe, { deny: { sethostname: 1 } });
    expect(run.stdout).toBe(`0 True ${os.hostname()}\n`);
    expect(run.status).toBe(0);
  });
});
