import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { testEnv } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

describe("warren run --json", () => {
  it("prints the RunResult (indented as before) within WARREN_RESULT_MAX_BYTES, saying what it dropped", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-run-json-"));
    try {
      const program = path.join(dir, "main.py");
      fs.writeFileSync(program, "import sys\nsys.stdout.write('\\x01' * 100000)\nsys.stderr.write('err')\n");
      const ran = spawnSync(process.execPath, [warrenBin(), "run", "--json", program], {
        env: { ...testEnv(), WARREN_RESULT_MAX_BYTES: "1000" },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(ran.status, ran.stderr).toBe(0);
      const result = runResultSchema.parse(JSON.parse(ran.stdout));
      expect(ran.stdout).toBe(`${JSON.stringify(JSON.parse(ran.stdout), null, 2)}\n`);
      expect(result.run).toMatchObject({ stdout: "\u0001".repeat(1000), stderr: "", stdoutTruncated: true, stderrTruncated: true, outputOmitted: { reason: "result_budget", stdoutBytes: 99_000, stderrBytes: 3 } });
      const bad = spawnSync(process.execPath, [warrenBin(), "run", "--json", program], { env: { ...testEnv(), WARREN_RESULT_MAX_BYTES: "lots" }, encoding: "utf8", timeout: 60_000 });
      expect(bad.stderr).toContain("WARREN_RESULT_MAX_BYTES must be an integer");
      expect(bad.status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
