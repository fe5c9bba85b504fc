// Load: thousands of mixed runs (fast, slow, hostile) through the distributed
// mode — redis-server + `warren serve --no-worker` + WORKERS `warren worker`,
// all child processes on 127.0.0.1 — with CLIENTS concurrent ?wait=true clients.
// Asserts every run completes exactly once with its exact verdict (and output),
// reports throughput, latency percentiles, RSS of the API and workers before
// and after, and checks for leaks afterwards. Bounded: RUNS runs, and it stops
// by itself after --max-seconds. A benchmark, not a test: `npm run bench:load`.
//
// usage: node --import tsx bench/load.ts [--runs 2000] [--workers 2] [--concurrency 2] [--clients 32] [--max-seconds 1800]
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../src/sandbox/cgroup/index.js";
import { staleChildren } from "../src/sandbox/cgroup/tree.js";
import { freePort, startRedis } from "../test/helpers/redis-server.js";
import { machine, pct, repo, rssKb, stopChild, waitReady, writeResult } from "./common.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "2000" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "2" },
    clients: { type: "string", default: "32" },
    "max-seconds": { type: "string", default: "1800" },
  },
});
const RUNS = Number(values.runs);
const WORKERS = Number(values.workers);
const CLIENTS = Number(values.clients);
const MAX_MS = Number(values["max-seconds"]) * 1000;
const MARK = `warren-load-${process.pid}-${randomBytes(4).toString("hex")}`;

interface Kind {
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly verdict: string;
  readonly stdout?: string;
}

/** The mix, one after another by index: mostly fast, some slow, a third hostile. */
const KINDS: readonly Kind[] = [
  { name: "fast-python", body: { language: "python", files: [{ path: "main.py", content: "print(sum(range(10)))" }] }, verdict: "accepted", stdout: "45\n" },
  { name: "fast-bash", body: { language: "bash", files: [{ path: "main.sh", content: "echo $((6 * 7))" }] }, verdict: "accepted", stdout: "42\n" },
  { name: "fast-js", body: { language: "javascript", files: [{ path: "main.js", content: "console.log([1, 2, 3].join('-'))" }] }, verdict: "accepted", stdout: "1-2-3\n" },
  { name: "slow-sleep", body: { language: "python", files: [{ path: "main.py", content: "import time\ntime.sleep(0.5)\nprint('slept')" }] }, verdict: "accepted", stdout: "slept\n" },
  { name: "runtime-error", body: { language: "bash", files: [{ path: "main.sh", content: "echo before; exit 3" }] }, verdict: "runtime_error", stdout: "before\n" },
  { name: "fast-python-2", body: { language: "python", files: [{ path: "main.py", content: "import sys\nprint(sys.stdin.read()[::-1])" }], stdin: "olleh" }, verdict: "accepted", stdout: "hello\n" },
  { name: "hostile-sleeper", body: { language: "bash", files: [{ path: "main.sh", content: "sleep 60" }], limits: { wallTimeMs: 300 } }, verdict: "time_limit_exceeded" },
  { name: "hostile-memory", body: { language: "python", files: [{ path: "main.py", content: "b = []\nwhile True: b.append(bytearray(b'x' * (1 << 20)))" }], limits: { memoryMb: 32 } }, verdict: "memory_limit_exceeded" },
  { name: "hostile-flood", body: { language: "bash", files: [{ path: "main.sh", content: "yes" }], limits: { outputKb: 4 } }, verdict: "output_limit_exceeded" },
  { name: "hostile-forkbomb", body: { language: "bash", files: [{ path: "main.sh", content: ":(){ :|:& };:\nwhile :; do :; done" }], limits: { processes: 16, wallTimeMs: 500, cpuTimeMs: 5000 } }, verdict: "time_limit_exceeded" },
  { name: "hostile-busy", body: { language: "javascript", files: [{ path: "main.js", content: "for (;;) {}" }], limits: { cpuTimeMs: 200, wallTimeMs: 10_000 } }, verdict: "time_limit_exceeded" },
  { name: "hostile-daemon", body: { language: "bash", files: [{ path: "main.sh", content: "(setsid sleep 300 &); echo bye" }] }, verdict: "accepted", stdout: "bye\n" },
];

interface Proc {
  readonly child: ChildProcess;
  readonly logFile: string;
}

const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-load-logs-"));

function warren(name: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.openSync(logFile, "w");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, "src/cli/main.ts"), ...args], {
    cwd: repo,
    env: { ...process.env, WARREN_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  return { child, logFile };
}

interface Outcome {
  readonly index: number;
  readonly id: string;
  readonly kind: string;
  readonly ms: number;
  readonly problem?: string;
}

/** One run: POST ?wait=true; past the server's wait, poll GET until final. */
async function runOne(base: string, index: number, deadline: number): Promise<Outcome> {
  const kind = KINDS[index % KINDS.length]!;
  const start = performance.now();
  const response = await fetch(`${base}/v1/runs?wait=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...kind.body, args: [MARK] }),
  });
  let result = (await response.json()) as { id: string; status: string; verdict: string | null; run?: { stdout: string } | null };
  while (response.status === 202 && !["completed", "failed", "cancelled"].includes(result.status)) {
    if (Date.now() > deadline) return { index, id: result.id, kind: kind.name, ms: performance.now() - start, problem: "not finished before the deadline" };
    await new Promise((resolve) => setTimeout(resolve, 200));
    result = (await (await fetch(`${base}/v1/runs/${result.id}`)).json()) as typeof result;
  }
  const ms = performance.now() - start;
  const problem =
    result.verdict !== kind.verdict
      ? `verdict ${result.verdict} (status ${result.status}), expected ${kind.verdict}`
      : kind.stdout !== undefined && result.run?.stdout !== kind.stdout
        ? `stdout ${JSON.stringify(result.run?.stdout)}, expected ${JSON.stringify(kind.stdout)}`
        : undefined;
  return { index, id: result.id, kind: kind.name, ms, ...(problem === undefined ? {} : { problem }) };
}

const percentile = (values: readonly number[], q: number): number => Number(pct(values, q).toFixed(1));

/** Host pids whose command line carries this run's marker. */
function markedProcesses(): number[] {
  return fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(MARK);
    } catch {
      return false;
    }
  }).map(Number);
}

/** Execution cgroups whose launcher is gone (what `reapStale` would remove). */
async function deadLauncherCgroups(): Promise<string[]> {
  const driver = detectCgroupDriver();
  return (await Promise.all(driver.parents(resolveCgroupRoot(driver, loadSettings(process.env, "worker").sandbox.cgroupRoot)).map(staleChildren))).flat();
}

async function main(): Promise<number> {
  const hardStop = setTimeout(() => {
    console.error(`load: stopping after --max-seconds ${MAX_MS / 1000}`);
    process.exit(2);
  }, MAX_MS + 60_000);
  hardStop.unref();
  const deadline = Date.now() + MAX_MS;
  const cgroupsBefore = new Set(await deadLauncherCgroups());
  const redis = await startRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { REDIS_URL: redis.url, WARREN_QUEUE: `load-${randomBytes(4).toString("hex")}`, WARREN_CONCURRENCY: values.concurrency, WARREN_RATE_LIMIT: "0" };
  const api = warren("api", ["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], env);
  const workers = Array.from({ length: WORKERS }, (_, i) => warren(`worker-${i}`, ["worker"], env));
  const outcomes: Outcome[] = [];
  let started = 0;
  try {
    await waitReady(base, [api, ...workers].map((p) => p.child));
    for (let i = 0; i < KINDS.length; i++) await runOne(base, i, deadline); // warm-up, not counted
    const sampleRss = () => ({ api: rssKb(api.child.pid ?? 0), workers: workers.map((w) => rssKb(w.child.pid ?? 0)) });
    const rssBefore = sampleRss();
    const t0 = performance.now();
    let next = 0;
    let rssMid: ReturnType<typeof sampleRss> | undefined;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < RUNS && Date.now() < deadline) {
          const index = next++;
          started++;
          outcomes.push(await runOne(base, index, deadline).catch((error: Error) => ({ index, id: "?", kind: "?", ms: 0, problem: error.message })));
          if (outcomes.length % 250 === 0) console.error(`load: ${outcomes.length}/${RUNS}`);
          if (rssMid === undefined && outcomes.length >= RUNS / 2) rssMid = sampleRss();
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const rssAfter = sampleRss();
    for (const p of [api, ...workers]) await stopChild(p.child, 30_000);
    await redis.dispose();

    // exactly once: each id has one "run finished" line over all workers' logs
    const finishedCount = new Map<string, number>();
    for (const w of workers) {
      for (const line of fs.readFileSync(w.logFile, "utf8").split("\n")) {
        if (!line.includes('"run finished"')) continue;
        const id = (JSON.parse(line) as { runId?: string }).runId;
        if (id !== undefined) finishedCount.set(id, (finishedCount.get(id) ?? 0) + 1);
      }
    }
    const problems = outcomes.filter((o) => o.problem !== undefined);
    const notOnce = outcomes.filter((o) => finishedCount.get(o.id) !== 1).map((o) => ({ id: o.id, kind: o.kind, finished: finishedCount.get(o.id) ?? 0 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const leaks = {
      processes: markedProcesses(),
      cgroups: (await deadLauncherCgroups()).filter((dir) => !cgroupsBefore.has(dir)),
    };
    // Bounded memory: over the second half of the runs (caches and pools are warm by
    // then), no process may keep growing: at most 48 MiB or a quarter of its size.
    const grew = (mid: number, end: number) => end - mid > Math.max(48 * 1024, mid / 4);
    const unbounded = rssMid === undefined
      ? ["no halfway sample"]
      : [
          ...(grew(rssMid.api, rssAfter.api) ? [`api ${rssMid.api} → ${rssAfter.api} KiB`] : []),
          ...rssAfter.workers.flatMap((end, i) => (grew(rssMid!.workers[i]!, end) ? [`worker-${i} ${rssMid!.workers[i]} → ${end} KiB`] : [])),
        ];
    const times = outcomes.map((o) => o.ms);
    const byKind = Object.fromEntries(KINDS.map((k) => {
      const t = outcomes.filter((o) => o.kind === k.name).map((o) => o.ms);
      return [k.name, t.length === 0 ? null : { runs: t.length, p50: percentile(t, 0.5), p99: percentile(t, 0.99) }];
    }));
    const report = {
      date: new Date().toISOString(),
      machine: machine(),
      config: { runs: RUNS, started, workers: WORKERS, concurrencyPerWorker: Number(values.concurrency), clients: CLIENTS },
      completed: outcomes.length,
      seconds: Number(seconds.toFixed(1)),
      throughputPerSecond: Number((outcomes.length / seconds).toFixed(2)),
      latencyMs: times.length === 0 ? null : { p50: percentile(times, 0.5), p90: percentile(times, 0.9), p99: percentile(times, 0.99), max: percentile(times, 1) },
      byKind,
      rssKb: { before: rssBefore, halfway: rssMid, after: rssAfter },
      memoryUnbounded: unbounded,
      wrongVerdicts: problems.length,
      notExactlyOnce: notOnce.length,
      leaks,
      examples: { problems: problems.slice(0, 10), notOnce: notOnce.slice(0, 10) },
    };
    const file = writeResult("load", report);
    console.log(JSON.stringify(report, null, 2));
    console.error(`load: results in ${file}`);
    const ok = outcomes.length === RUNS && unbounded.length === 0 && problems.length === 0 && notOnce.length === 0 && leaks.processes.length === 0 && leaks.cgroups.length === 0;
    if (ok) fs.rmSync(logDir, { recursive: true, force: true });
    else console.error(`load: FAILED; process logs kept in ${logDir}`);
    return ok ? 0 : 1;
  } finally {
    for (const p of [api, ...workers]) await stopChild(p.child, 30_000);
    await redis.dispose();
  }
}

process.exitCode = await main();
