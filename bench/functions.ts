// Functions (issue 13): for a trivial Python and a trivial Node.js handler, side by side in one run, through the
// FunctionRuntime on the real sandbox host (no HTTP: the API's own cost is service-latency's):
//   * warm invoke: a prepared container waits before each invocation (paced: every measure below starts once
//     the pools' refills are done), p50 / p99; alternated with the same through a runtime that answers after the
//     program's exit and the launcher's status line instead of at the response (answerAtResponse: false);
//   * cold invoke: no prepared container (a runtime that keeps none), p50;
//   * the same code as a plain run (runJob, with the runs' ContainerPool), p50;
//   * sustained invocations/s at 2, 4 and 8 in flight (the warm pools refilling behind them), and how many were cold;
//   * the same through its zygotes (docs/functions.md, "The zygote": each invocation a child of a process that
//     imported the handler once; Node.js's: *A Node.js zygote*), invoke p50 / p99 and sustained at 2, 4 and 8 in
//     flight (the measures above are the prepared containers', with the zygotes off);
// and bare `python3 -c pass` / `node -e 0` starts per second on the host, sequential and 2 at a time (the issue's
// target: sustained trivial-Python invocations/s ≥ 2× bare python3 starts/s on 2 cores).
//
// usage: node --import tsx bench/functions.ts [--rounds 100] [--sustained 200]
//        BENCH_QUICK=1 for small counts. Results: bench/results/functions-*.json
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import type { FunctionSource, FunctionVersion, InvocationEvent } from "../src/run/functions.js";
import { jobSpecFromBody } from "../src/run/job-spec.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from "../src/run/limits.js";
import { openSandboxHost } from "../src/sandbox/sandbox-host.js";
import { createFunctionRuntime, type SandboxFunctionRuntime } from "../src/worker/functions/runtime.js";
import { runJob } from "../src/worker/run-job.js";
import { machine, pool as inParallel, pct, QUICK, r1, r2, table, writeResult } from "./common.js";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: QUICK ? "15" : "100" },
    sustained: { type: "string", default: QUICK ? "40" : "200" },
  },
});
const ROUNDS = Number(opts.rounds);
const SUSTAINED = Number(opts.sustained);
const IN_FLIGHT = [2, 4, 8];

const host = await openSandboxHost(loadSettings(process.env, "serve").sandbox, { reapStale: false, pool: true });
const languages = host.image.languages;

const handlers = {
  python: { file: "main.py", code: "def handler(event, context):\n    return event\n", plain: "import sys\nsys.stdout.write(sys.stdin.read())\n" },
  javascript: { file: "main.mjs", code: "export function handler(event) {\n  return event;\n}\n", plain: "process.stdin.pipe(process.stdout);\n" },
} as const;
type Lang = keyof typeof handlers;

function sourceOf(language: Lang): FunctionSource {
  const h = handlers[language];
  return {
    name: `bench-${language}`,
    language,
    languageVersion: "bench",
    image: host.image.name,
    mode: "handler",
    handler: `main.handler`,
    files: [{ path: h.file, content: Buffer.from(h.code) }],
    env: {},
    // a generous timeout: a benchmark on a busy machine measures, it does not fail
    limits: { ...DEFAULT_RUN_LIMITS, wallTimeMs: 60_000 },
    compileLimits: DEFAULT_COMPILE_LIMITS,
  };
}

const event: InvocationEvent = { body: Buffer.from('{"n":1}'), contentType: "application/json" };
let ids = 0;

async function invoke(rt: SandboxFunctionRuntime, fn: FunctionVersion): Promise<{ ms: number; cold: boolean; durationMs: number }> {
  const started = performance.now();
  const outcome = await rt.invoke(fn, event, { id: `bench-${++ids}`, logs: process.env.BENCH_DEBUG === "1" });
  const ms = performance.now() - started;
  if (outcome.status !== "ok" || JSON.stringify(JSON.parse(outcome.body.toString())) !== '{"n":1}') {
    throw new Error(`invocation: ${outcome.status} ${JSON.stringify(outcome.error)} ${outcome.body.toString()} cold=${outcome.cold} ${outcome.durationMs} ms, cpu ${outcome.cpuTimeMs} ms, logs ${JSON.stringify(outcome.logs)}`);
  }
  return { ms, cold: outcome.cold, durationMs: outcome.durationMs };
}

async function waitWarm(rt: SandboxFunctionRuntime): Promise<void> {
  for (let i = 0; i < 2000 && (rt.warm === 0 || rt.preparing > 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 60)); // and the runs' pool's refill (50 ms after a hand-out)
}

async function deploy(rt: SandboxFunctionRuntime, language: Lang): Promise<FunctionVersion> {
  const src = sourceOf(language);
  const built = await rt.build(src);
  if (!built.ok) throw new Error(`${language}: ${built.message}\n${built.output}`);
  return { ...src, version: "1", number: 1, digest: language, build: built.build, createdAt: new Date().toISOString() };
}

async function plainRun(language: Lang): Promise<number> {
  const h = handlers[language];
  const spec = jobSpecFromBody({ language, files: [{ path: h.file, content: h.plain }], stdin: '{"n":1}' }, { languages });
  const started = performance.now();
  const result = await runJob(spec, host);
  const ms = performance.now() - started;
  if (result.verdict !== "accepted") throw new Error(`plain run: ${result.status} ${result.verdict}`);
  return ms;
}

/** Starts of COMMAND per second, IN_FLIGHT shell loops at a time (fork + exec, as a shell does), in the image's environment. */
function bareStartsPerSecond(command: string, count: number, inFlight: number): number {
  const loop = `i=0; while [ $i -lt ${Math.ceil(count / inFlight)} ]; do ${command}; i=$((i+1)); done`;
  const script = `${Array.from({ length: inFlight }, () => `(${loop}) &`).join(" ")} wait`;
  const started = performance.now();
  // the image's PATH (the host image's: /usr/bin), so that it is the interpreter the functions run, not a wrapper of the caller's PATH (pyenv)
  spawnSync("sh", ["-c", script], { stdio: "ignore", env: { PATH: host.image.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" } });
  return (Math.ceil(count / inFlight) * inFlight) / ((performance.now() - started) / 1000);
}

/** A version's invocations through its zygotes: paced invoke latency, then sustained rates (its zygotes made first, up to 8). */
async function throughZygotes(fn: FunctionVersion) {
  const rt = createFunctionRuntime(host, { maxZygotesPerVersion: 8, nodeZygotes: true });
  const idle = async () => {
    for (let i = 0; i < 2000 && rt.zygotes === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  await invoke(rt, fn);
  await idle();
  for (let i = 0; i < 3; i++) await invoke(rt, fn);
  const times: number[] = [];
  let colds = 0;
  for (let i = 0; i < ROUNDS; i++) {
    await idle();
    const r = await invoke(rt, fn);
    times.push(r.ms);
    if (r.cold) colds++;
  }
  // as many zygotes as the most in flight below, before anything is timed
  await inParallel(Math.max(...IN_FLIGHT) * 8, Math.max(...IN_FLIGHT), async () => void (await invoke(rt, fn)));
  const sustained: { inFlight: number; perSecond: number; coldShare: number; p50Ms: number; p99Ms: number }[] = [];
  for (const inFlight of IN_FLIGHT) {
    const each: number[] = [];
    let cold = 0;
    const ms = await inParallel(SUSTAINED, inFlight, async () => {
      const r = await invoke(rt, fn);
      each.push(r.ms);
      if (r.cold) cold++;
    });
    sustained.push({ inFlight, perSecond: r1(SUSTAINED / (ms / 1000)), coldShare: r2(cold / SUSTAINED), p50Ms: r2(pct(each, 0.5)), p99Ms: r2(pct(each, 0.99)) });
  }
  const zygotes = rt.zygotes;
  await rt.close();
  return { invoke: { p50Ms: r2(pct(times, 0.5)), p99Ms: r2(pct(times, 0.99)), cold: colds }, sustained, zygotes };
}

const bareCount = QUICK ? 40 : 200;
/** Bare starts, measured before and after the functions (the machine's load moves): the faster of the two counts. */
const bareRuns: { python3: { sequential: number; twoAtATime: number }; node: { sequential: number; twoAtATime: number } }[] = [];
const measureBare = () =>
  bareRuns.push({
    python3: { sequential: r1(bareStartsPerSecond("python3 -c pass", bareCount, 1)), twoAtATime: r1(bareStartsPerSecond("python3 -c pass", bareCount, 2)) },
    node: { sequential: r1(bareStartsPerSecond("node -e 0", bareCount / 4, 1)), twoAtATime: r1(bareStartsPerSecond("node -e 0", bareCount / 4, 2)) },
  });
measureBare();

const results: Record<string, unknown> = {};
for (const language of Object.keys(handlers) as Lang[]) {
  // the prepared containers' path (a Python version's zygotes are measured apart, below)
  const warmRt = createFunctionRuntime(host, { maxWarmPerVersion: 8, maxZygotesPerVersion: 0 });
  const coldRt = createFunctionRuntime(host, { maxWarmPerVersion: 0, maxZygotesPerVersion: 0 });
  const atStatusRt = createFunctionRuntime(host, { maxWarmPerVersion: 8, answerAtResponse: false, maxZygotesPerVersion: 0 });
  const fn = await deploy(warmRt, language);
  // warm-ups
  for (let i = 0; i < 3; i++) {
    await invoke(coldRt, fn);
    await plainRun(language);
    await invoke(warmRt, fn);
    await waitWarm(warmRt);
    await invoke(atStatusRt, fn);
    await waitWarm(atStatusRt);
  }
  const warm: number[] = [];
  const warmDuration: number[] = [];
  const atStatus: number[] = [];
  let atStatusMisses = 0;
  const cold: number[] = [];
  const plain: number[] = [];
  let warmMisses = 0;
  for (let i = 0; i < ROUNDS; i++) {
    await waitWarm(warmRt);
    const w = await invoke(warmRt, fn);
    warm.push(w.ms);
    warmDuration.push(w.durationMs);
    if (w.cold) warmMisses++;
    await waitWarm(warmRt);
    await waitWarm(atStatusRt);
    const s = await invoke(atStatusRt, fn);
    atStatus.push(s.ms);
    if (s.cold) atStatusMisses++;
    await waitWarm(atStatusRt);
    // each measure starts once the warm pool's refill is done: it would take the CPU from the next
    await waitWarm(warmRt);
    cold.push((await invoke(coldRt, fn)).ms);
    await waitWarm(warmRt);
    plain.push(await plainRun(language));
  }
  await coldRt.close();
  await atStatusRt.close();
  const sustained: { inFlight: number; perSecond: number; coldShare: number; p50Ms: number; p99Ms: number }[] = [];
  for (const inFlight of IN_FLIGHT) {
    const times: number[] = [];
    let colds = 0;
    const ms = await inParallel(SUSTAINED, inFlight, async () => {
      const r = await invoke(warmRt, fn);
      times.push(r.ms);
      if (r.cold) colds++;
    });
    sustained.push({ inFlight, perSecond: r1(SUSTAINED / (ms / 1000)), coldShare: r2(colds / SUSTAINED), p50Ms: r2(pct(times, 0.5)), p99Ms: r2(pct(times, 0.99)) });
  }
  await warmRt.close();
  const zygote = await throughZygotes(fn);
  results[language] = {
    ...(zygote === undefined ? {} : { zygote }),
    warm: { p50Ms: r2(pct(warm, 0.5)), p99Ms: r2(pct(warm, 0.99)), misses: warmMisses, durationP50Ms: r2(pct(warmDuration, 0.5)) },
    warmAtStatusLine: { p50Ms: r2(pct(atStatus, 0.5)), p99Ms: r2(pct(atStatus, 0.99)), misses: atStatusMisses },
    cold: { p50Ms: r2(pct(cold, 0.5)), p99Ms: r2(pct(cold, 0.99)) },
    plainRun: { p50Ms: r2(pct(plain, 0.5)), p99Ms: r2(pct(plain, 0.99)) },
    sustained,
  };
}
await host.pool?.close();

measureBare();
const fastest = (pick: (run: (typeof bareRuns)[number]) => number) => Math.max(...bareRuns.map(pick));
const bare = {
  python3: { sequential: fastest((b) => b.python3.sequential), twoAtATime: fastest((b) => b.python3.twoAtATime) },
  node: { sequential: fastest((b) => b.node.sequential), twoAtATime: fastest((b) => b.node.twoAtATime) },
  runs: bareRuns,
};
const py = results.python as { sustained: { inFlight: number; perSecond: number }[]; zygote: { sustained: { inFlight: number; perSecond: number }[] } };
const bestPython = Math.max(...py.sustained.map((s) => s.perSecond), ...py.zygote.sustained.map((s) => s.perSecond));
const data = {
  kind: "functions",
  quick: QUICK,
  machine: machine(),
  config: { rounds: ROUNDS, sustained: SUSTAINED, inFlight: IN_FLIGHT },
  ...results,
  bare,
  target: { bestPythonPerSecond: bestPython, barePython3TwoAtATime: bare.python3.twoAtATime, ratio: r2(bestPython / bare.python3.twoAtATime), wanted: 2 },
};
const rows: (string | number)[][] = [];
for (const language of Object.keys(handlers) as Lang[]) {
  const d = results[language] as any;
  rows.push([`${language}: warm invoke p50 / p99 ms (${d.warm.misses} of ${ROUNDS} found none warm; outcome durationMs p50 ${d.warm.durationP50Ms})`, `${d.warm.p50Ms} / ${d.warm.p99Ms}`]);
  rows.push([`${language}: warm invoke answered at the status line (answerAtResponse: false), alternated, p50 / p99 ms (${d.warmAtStatusLine.misses} found none warm)`, `${d.warmAtStatusLine.p50Ms} / ${d.warmAtStatusLine.p99Ms}`]);
  rows.push([`${language}: cold invoke p50 / p99 ms`, `${d.cold.p50Ms} / ${d.cold.p99Ms}`]);
  rows.push([`${language}: the same code as a plain run (runJob) p50 / p99 ms`, `${d.plainRun.p50Ms} / ${d.plainRun.p99Ms}`]);
  for (const s of d.sustained) rows.push([`${language}: sustained, ${s.inFlight} in flight: invocations/s (cold share, p50 / p99 ms)`, `${s.perSecond} (${s.coldShare}, ${s.p50Ms} / ${s.p99Ms})`]);
  if (d.zygote !== undefined) {
    rows.push([`${language}: through its zygotes, invoke p50 / p99 ms (${d.zygote.invoke.cold} of ${ROUNDS} cold)`, `${d.zygote.invoke.p50Ms} / ${d.zygote.invoke.p99Ms}`]);
    for (const s of d.zygote.sustained) rows.push([`${language}: through its zygotes (${d.zygote.zygotes}), sustained, ${s.inFlight} in flight: invocations/s (cold share, p50 / p99 ms)`, `${s.perSecond} (${s.coldShare}, ${s.p50Ms} / ${s.p99Ms})`]);
  }
}
rows.push(["bare `python3 -c pass` starts/s, sequential / 2 at a time (the faster of before and after)", `${bare.python3.sequential} / ${bare.python3.twoAtATime}`]);
rows.push(["bare `node -e 0` starts/s, sequential / 2 at a time", `${bare.node.sequential} / ${bare.node.twoAtATime}`]);
rows.push(["target: best sustained Python invocations/s ÷ bare python3 starts/s (2 at a time); wanted ≥ 2", String(data.target.ratio)]);
console.log(table(["measure", "value"], rows));
console.log(`results: ${writeResult("functions", data)}`);
process.exit(0);
