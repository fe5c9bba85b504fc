// `warren run --server URL` end to end: bin/warren.js (the built package) against a served app, and the same files run locally.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { eventually } from "../helpers/eventually.js";
import { testEnv } from "../helpers/sandbox.js";
import { served, type Served } from "./served.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(ROOT, "bin", "warren.js");
const KEY = "remote-key";

let s: Served;
let dir: string;
beforeAll(async () => {
  // bin/warren.js runs the compiled package: a source newer than its build would test old code.
  for (const file of ["cli/run.ts", "cli/run-remote.ts", "cli/run-report.ts", "client/warren-client.ts", "client/run-events.ts", "client/transport.ts"]) {
    const built = path.join(ROOT, "dist", file.replace(/\.ts$/, ".js"));
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(ROOT, "src", file)).mtimeMs) throw new Error(`dist/ is older than src/${file}: run \`npm run build:ts\` first.`);
  }
  s = await served({ apiKeys: [KEY] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-run-remote-"));
});
afterAll(async () => {
  await s?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const at = path.join(dir, name);
  fs.writeFileSync(at, content);
  return at;
}

/** `warren ARGS` as a child process (the server answers in this one, so never spawnSync). */
function warren(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...testEnv(), WARREN_API_KEY: KEY, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? -1), stdout, stderr });
    });
  });
}

describe("warren run --server", () => {
  it("prints what a local run prints and exits with the same code: exit codes, stdin, stderr, a compile error, a time limit", async () => {
    const stdin = file("in.txt", "21\n");
    const cases: string[][] = [
      [file("ok.py", "import sys\nprint(int(input()) * 2)\nprint('to stderr', file=sys.stderr)\n"), "--stdin", stdin],
      [file("exit3.py", "print('bye')\nraise SystemExit(3)\n")],
      [file("broken.c", "int main(void) { return nope; }\n")],
      [file("spin.py", "while True: pass\n"), "--cpu-ms", "300", "--wall-ms", "2000"],
      [file("killed.py", "import os, signal\nprint('going', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")],
    ];
    for (const args of cases) {
      const local = await warren(["run", ...args]);
      const remote = await warren(["run", "--server", s.url, ...args]);
      expect({ args, ...remote }).toEqual({ args, ...local });
    }
    // what they were: the cases did not all pass for the same reason
    const codes = await Promise.all(cases.map(async (args) => (await warren(["run", "--server", s.url, ...args])).code));
    expect(codes).toEqual([0, 3, 1, 124, 137]);
  }, 120_000);

  it("--json prints the RunResult, the language given or guessed from the server's extensions", async () => {
    const result = await warren(["run", "--server", s.url, "--json", "--lang", "python3", file("guess.txt", "print('as python')\n")]);
    expect(result.code).toBe(0);
    expect(runResultSchema.parse(JSON.parse(result.stdout))).toMatchObject({ status: "completed", language: "python", run: { stdout: "as python\n" } });
    const guessed = await warren(["run", "--server", `${s.url}/`, "--json", file("guessed.py", "print(1)\n")]);
    expect(JSON.parse(guessed.stdout)).toMatchObject({ language: "python", verdict: "accepted" });
  }, 60_000);

  it("prints the output live, and Ctrl-C cancels the run on the server (exit 130)", async () => {
    const child = spawn(process.execPath, [BIN, "run", "--server", s.url, "--wall-ms", "50000", file("slow.py", "import time\nprint('first', flush=True)\ntime.sleep(40)\nprint('never')\n")], {
      env: { ...testEnv(), WARREN_API_KEY: KEY },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The first line arrives while the program still runs (it sleeps 40 s after it): output is live, not the result's.
    await eventually("the first line", () => (stdout === "first\n" ? true : undefined), 30_000);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    // This server's only cancelled run: counted once its worker let go of it.
    await eventually("the run to be cancelled on the server", async () => {
      const runs = await s.t.metrics.registry.getSingleMetric("warren_runs_total")!.get();
      return runs.values.some((value) => value.labels.status === "cancelled" && value.value === 1) ? true : undefined;
    });
  }, 60_000);

  it("a bad request exits 2 as a bad flag does; a refused key 1; a server out of reach 125, naming it", async () => {
    const bad = await warren(["run", "--server", s.url, "--lang", "cobol-85", file("x.cob", "")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("cobol-85");
    expect((await warren(["run", "--server", s.url, file("unknown.xyz", "")])).code).toBe(2);
    expect((await warren(["run", "--server", "not a url", file("y.py", "")])).code).toBe(2);
    const refused = await warren(["run", "--server", s.url, file("k.py", "print(1)")], { WARREN_API_KEY: "wrong" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("unauthorized");
    const nowhere = await warren(["run", "--server", "http://127.0.0.1:9", file("z.py", "print(1)")]);
    expect(nowhere.code).toBe(125);
    expect(nowhere.stderr).toContain("http://127.0.0.1:9");
  }, 60_000);
});
