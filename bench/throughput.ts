// Throughput of trivial C runs (hello world: gcc compile, then run) through
// the HTTP API, against what the launcher alone sustains on the same machine
// doing the same work with the same number in flight.
//
//   api        POST /v1/runs?wait=true {language: "c"} (embedded, and distributed: redis + serve --no-worker + 1 worker)
//   one-shot   the lean baseline: one `warren-launch` one-shot process per run, host image, the job's source
//              copied in, `sh -c 'gcc … -o main main.c && exec ./main'` under the compile limits, a cgroup per run
//   served     what a job does, without the API/queue/worker: a held container (Container.create) with
//              gcc then ./main served in it (compile then run limits, a cgroup per execution), no warm pool
//
// The three are measured in turn, in two halves each (A B C A B C), so drift in
// the machine's load hits them alike. Every run's output is checked: a wrong
// verdict or output fails the benchmark at once. Reports runs/s, the ratio
// api / one-shot (target ≥ 0.70) and the RSS of the API/worker before and after.
//
// usage: node --import tsx bench/throughput.ts [--count 100] [--warmup 10] [--concurrency 2,4] [--modes embedded,distributed]
//        BENCH_QUICK=1 for small counts. Needs `npm run build` (and redis-server for distributed). Results: bench/results/throughput-*.json
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import { openSandboxHost } from "../src/sandbox/sandbox-host.js";
import { expandCommand, findLanguage } from "../src/sandbox/images/languages.js";
import { containerArgs, execArgs } from "../src/sandbox/container/launch-args.js";
import { Container } from "../src/sandbox/container/container.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from "../src/run/limits.js";
import { execLimits } from "../src/worker/stage-exec.js";
import { machine, pct, pool, QUICK, r1, r2, rssOf, startDistributed, startEmbedded, table, timedRun, writeResult, type Deployment } from "./common.js";

const { values: opts } = parseArgs({
  options: {
    count: { type: "string", default: QUICK ? "10" : "100" },
    warmup: { type: "string", default: QUICK ? "3" : "10" },
    concurrency: { type: "string", default: "2,4" },
    modes: { type: "string", default: "embedded,distributed" },
  },
});
const COUNT = Number(opts.count);
const WARMUP = Number(opts.warmup);
const CONCURRENCY = opts.concurrency.split(",").map(Number);
const MODES = opts.modes.split(",").filter(Boolean) as ("embedded" | "distributed")[];
/** A process whose RSS grows more than this over the measured runs is reported as unbounded (and fails the benchmark). */
const RSS_GROWTH_LIMIT_KB = 64 * 1024;

const SOURCE = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n';
const EXPECTED = "hello\n";
const STATUS_FD = 3;

// The launcher's side: the same image, cgroups, commands and limits a job uses.
const sandbox = await openSandboxHost(loadSettings(process.env, "run").sandbox, { reapStale: false });
const c = findLanguage(sandbox.image.languages, "c");
if (c.compile === null) throw new Error("language c has no compile stage?");
const compileArgv = expandCommand(c.compile, c, { files: ["main.c"], memoryMb: DEFAULT_COMPILE_LIMITS.memoryMb });
const runArgv = expandCommand(c.run, c, { files: ["main.c"], memoryMb: DEFAULT_RUN_LIMITS.memoryMb });
const scratchMb = Math.max(DEFAULT_RUN_LIMITS.diskMb, DEFAULT_COMPILE_LIMITS.diskMb);
// One source dir for every launcher run (the lean loop writes it once), readable by the sandbox user.
const srcDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-bench-src-"));
fs.writeFileSync(path.join(srcDir, "main.c"), SOURCE, { mode: 0o644 });
fs.chmodSync(srcDir, 0o755);
if (process.getuid?.() === 0) {
  fs.chownSync(srcDir, 65534, 65534);
  fs.chownSync(path.join(srcDir, "main.c"), 65534, 65534);
}
// The one-shot reads the source from a read-only bind (the launcher takes files only in served requests).
const container = { rootfs: sandbox.image.rootfs, binds: [...sandbox.image.binds, { source: srcDir, target: "/src" }], scratchMb, cgroups: sandbox.cgroups };
const oneShotCompileArgv = expandCommand(c.compile, c, { files: ["/src/main.c"], memoryMb: DEFAULT_COMPILE_LIMITS.memoryMb });
/** Exec options of a one-shot, then its status fd and the program. */
const execFlags = (argv: readonly string[], limits: typeof DEFAULT_RUN_LIMITS) => {
  const args = execArgs({ hasCgroups: true, argv, env: sandbox.image.env, limits: execLimits(limits) });
  const separator = args.indexOf("--");
  return [...args.slice(0, separator), "--status-fd", String(STATUS_FD), ...args.slice(separator)];
};
const shellQuote = (arg: string) => (/^[\w./=+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
const oneShotArgs = [
  ...containerArgs(container),
  ...execFlags(["/bin/sh", "-c", `${oneShotCompileArgv.map(shellQuote).join(" ")} && exec ${runArgv.map(shellQuote).join(" ")}`], DEFAULT_COMPILE_LIMITS),
];

interface Launched {
  code: number | null;
  stdout: string;
  stderr: string;
  status: string;
}

/** Runs warren-launch ARGS to its end, collecting stdout, stderr and the status line (fd 3). */
function launch(args: readonly string[]): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(sandbox.launcher, args, { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const status: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    (child.stdio[STATUS_FD] as Readable).on("data", (b: Buffer) => status.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status: Buffer.concat(status).toString() }),
    );
  });
}

function expectOk(what: string, result: Launched, stdout?: string): void {
  const ok = result.code === 0 && /"status":"ok"/.test(result.status) && (stdout === undefined || result.stdout === stdout);
  if (!ok) throw new Error(`${what} failed: exit ${result.code}, status ${result.status.trim()}, stdout ${JSON.stringify(result.stdout)}, stderr ${result.stderr.slice(0, 2000)}`);
}

async function oneShot(): Promise<void> {
  expectOk("one-shot", await launch(oneShotArgs), EXPECTED);
}

/** What a job does, without the API, queue and worker: a held container with the source, gcc and ./main served in it, the container ended. */
async function served(): Promise<void> {
  const box = await Container.create({ rootfs: sandbox.image.rootfs, binds: sandbox.image.binds, scratchMb, cgroups: sandbox.cgroups, files: [{ path: "main.c", content: SOURCE }] });
  try {
    const env = sandbox.image.env;
    const compiled = await box.exec({ argv: compileArgv, env, limits: execLimits(DEFAULT_COMPILE_LIMITS) });
    if (compiled.status !== "ok") throw new Error(`served compile failed: ${JSON.stringify({ ...compiled, stdout: compiled.stdout.toString(), stderr: compiled.stderr.toString() })}`);
    const ran = await box.exec({ argv: runArgv, env, limits: execLimits(DEFAULT_RUN_LIMITS) });
    if (ran.status !== "ok" || ran.stdout.toString() !== EXPECTED) throw new Error(`served run failed: ${ran.status} ${JSON.stringify(ran.stdout.toString())}`);
  } finally {
    await box.destroy();
  }
}

const BODY = JSON.stringify({ language: "c", files: [{ path: "main.c", content: SOURCE }] });

async function apiRun(base: string, latencies: number[]): Promise<void> {
  const { ms, result } = await timedRun(base, BODY);
  latencies.push(ms);
  if (result.verdict !== "accepted" || result.run?.stdout !== EXPECTED) throw new Error(`wrong answer from the API: ${JSON.stringify(result).slice(0, 2000)}`);
}

interface Measured {
  runs: number;
  seconds: number;
  runsPerSecond: number;
}
const measured = (runs: number, ms: number): Measured => ({ runs, seconds: r2(ms / 1000), runsPerSecond: r2(runs / (ms / 1000)) });

const results: Record<string, unknown>[] = [];
let failed = false;
const started = Date.now();
console.log(`# throughput: hello-world C (gcc ${c.version.detected}), ${COUNT} runs per variant and concurrency after ${WARMUP} warm-up, ${os.cpus().length} cores${QUICK ? " (quick)" : ""}`);
try {
  // Launcher warm-up (page cache, gcc's files) before anything is timed.
  await pool(WARMUP, 2, oneShot);
  await pool(WARMUP, 2, served);
  for (const mode of MODES) {
    const deployment: Deployment = mode === "embedded" ? await startEmbedded() : await startDistributed();
    try {
      await pool(WARMUP, Math.max(...CONCURRENCY), () => apiRun(deployment.base, []));
      const rssBefore = rssOf(deployment);
      for (const inFlight of CONCURRENCY) {
        const halves = [Math.ceil(COUNT / 2), Math.floor(COUNT / 2)];
        const ms = { oneShot: 0, served: 0, api: 0 };
        const latencies: number[] = [];
        for (const n of halves) {
          ms.oneShot += await pool(n, inFlight, oneShot);
          ms.served += await pool(n, inFlight, served);
          ms.api += await pool(n, inFlight, () => apiRun(deployment.base, latencies));
        }
        const row = {
          mode,
          inFlight,
          api: { ...measured(COUNT, ms.api), p50Ms: r1(pct(latencies, 0.5)), p99Ms: r1(pct(latencies, 0.99)) },
          launcherOneShot: measured(COUNT, ms.oneShot),
          launcherServed: measured(COUNT, ms.served),
          ratio: r2(ms.oneShot / ms.api),
          ratioVsServed: r2(ms.served / ms.api),
        };
        results.push(row);
        console.log(
          `${mode} ×${inFlight}: api ${row.api.runsPerSecond} runs/s (p50 ${row.api.p50Ms} ms), one-shot ${row.launcherOneShot.runsPerSecond}, served ${row.launcherServed.runsPerSecond}, ratio ${row.ratio}`,
        );
      }
      const rssAfter = rssOf(deployment);
      const grew = Object.keys(rssBefore).filter((name) => (rssAfter[name] ?? 0) - (rssBefore[name] ?? 0) > RSS_GROWTH_LIMIT_KB);
      for (const row of results.filter((r) => r.mode === mode)) row.rssKb = { before: rssBefore, after: rssAfter, bounded: grew.length === 0 };
      if (grew.length > 0) {
        failed = true;
        console.error(`FAIL: ${mode}: RSS of ${grew.join(", ")} grew more than ${RSS_GROWTH_LIMIT_KB / 1024} MiB: ${JSON.stringify(rssBefore)} → ${JSON.stringify(rssAfter)}`);
      }
    } finally {
      await deployment.stop();
    }
  }
} catch (error) {
  console.error(`FAIL: ${(error as Error).stack ?? error}`);
  failed = true;
} finally {
  fs.rmSync(srcDir, { recursive: true, force: true });
}

const kb = (x: number | undefined) => (x === undefined ? "-" : String(Math.round(x / 1024)));
console.log();
console.log(
  table(
    ["mode", "in flight", "API runs/s", "API p50 ms", "launcher one-shot runs/s", "launcher served runs/s", "API / one-shot", "API / served", "RSS MiB before → after"],
    results.map((r: any) => [
      r.mode,
      r.inFlight,
      r.api.runsPerSecond,
      r.api.p50Ms,
      r.launcherOneShot.runsPerSecond,
      r.launcherServed.runsPerSecond,
      `${r.ratio}${r.ratio >= 0.7 ? "" : " (< 0.70)"}`,
      r.ratioVsServed,
      Object.keys(r.rssKb?.before ?? {}).map((n) => `${n} ${kb(r.rssKb.before[n])} → ${kb(r.rssKb.after[n])}`).join(", "),
    ]),
  ),
);
const file = writeResult("throughput", {
  date: new Date().toISOString(),
  machine: machine(),
  quick: QUICK,
  config: { count: COUNT, warmup: WARMUP, concurrency: CONCURRENCY, modes: MODES, program: "hello world C", target: 0.7 },
  seconds: r1((Date.now() - started) / 1000),
  ok: !failed,
  results,
});
console.log(`# written: ${file}${failed ? " (FAILED)" : ""}`);
process.exit(failed ? 1 : 0);
