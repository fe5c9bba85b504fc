import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testEnv } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

describe("warren run", () => {
  it("prints the program's output as it is produced, not when it ends", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-run-live-"));
    try {
      const program = path.join(dir, "main.py");
      // It prints, then waits long before its last line: the first line must reach us while warren run still runs.
      fs.writeFileSync(program, "import sys, time\nprint('first', flush=True)\nprint('to stderr', file=sys.stderr, flush=True)\ntime.sleep(5)\nprint('last')\n");
      const child = spawn(process.execPath, [warrenBin(), "run", "--wall-ms", "20000", program], { env: testEnv(), stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      // What stdout held when the first line came: printed at the end, it would come with the last.
      const whenFirst = await new Promise<string>((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.startsWith("first\n")) resolve(stdout);
        });
        child.once("exit", () => resolve(stdout));
      });
      expect(whenFirst, `stderr ${stderr}`).toBe("first\n");
      expect(child.exitCode).toBeNull();
      expect(await exited).toBe(0);
      // Printed once, live: not again from the result at the end.
      expect(stdout).toBe("first\nlast\n");
      expect(stderr).toBe("to stderr\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
