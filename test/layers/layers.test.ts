/* The layer order of README.md's Layout table, held by dependency-cruiser
 * (.dependency-cruiser.cjs): the same check as `npm run lint:layers`. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPCRUISE = path.join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");

/** dependency-cruiser on `src` of `cwd`, with Warren's rules. */
function cruise(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, "src", "--config", CONFIG, "--output-type", "err-long"], { cwd, encoding: "utf8", timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("layers", () => {
  it("no module under src/ imports a layer above its own or a folder beside it", () => {
    const { status, output } = cruise(ROOT);
    expect(output).toContain("no dependency violations found");
    expect(status, output).toBe(0);
  });

  it("an import up a layer, or across to a sibling, fails the check (the rules do fire)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-layers-"));
    try {
      const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      };
      write("src/worker/run-job.ts", "export const runJob = 1;\n");
      write("src/run/result.ts", 'import type { Host } from "../sandbox/host.js";\nexport type Up = Host;\n');
      write("src/sandbox/host.ts", "export interface Host { readonly name: string }\n");
      write("src/api/health.ts", 'import { runJob } from "../worker/run-job.js";\nexport const beside = runJob;\n');
      write("src/cli/main.ts", 'import { beside } from "../api/health.js";\nexport const down = beside;\n');
      const { status, output } = cruise(dir);
      expect(output).toContain("layer:src/run/: src/run/result.ts → src/sandbox/host.ts");
      expect(output).toContain("layer:src/api/: src/api/health.ts → src/worker/run-job.ts");
      expect(output).not.toContain("src/cli/main.ts →");
      expect(output).toContain("2 dependency violations");
      expect(status).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
