// End-to-end latency of a trivial Python run through the HTTP API: N sequential
// POST /v1/runs?wait=true, embedded (serve) and distributed (redis-server +
// serve --no-worker + 1 worker), next to the same program run bare (no sandbox,
// no service), back to back and paced (50 ms between requests). Needs `npm run build` and redis-server.
// usage: node --import tsx bench/service-latency.ts [N]     (results in bench/results/)
// With WARREN_PHASE_TIMINGS=1 it also prints where the time of a run goes (median ms per phase).
// Also, per mode, the compatible APIs (docs/compat.md) beside /v1: the same program as a Judge0 submission
// (POST /judge0/submissions?wait=true), a Piston execute and a POST /v1/runs?wait=true, alternated (`compat`).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { alternate, pct, postRun, r1, startDistributed, startEmbedded, writeResult } from "./common.js";

const N = Number(process.argv[2] ?? 50);
const PROGRAM = "print('hi')";
const BODY = JSON.stringify({ language: "python", files: [{ path: "main.py", content: PROGRAM }] });
const JUDGE0_BODY = JSON.stringify({ language_id: 71, source_code: PROGRAM });
const PHASES = process.env.WARREN_PHASE_TIMINGS === "1";
/** The pause before each paced request: longer than a container's teardown and the pool's refill. */
const PACED_GAP_MS = 50;

/** Per run id: wall-clock ms of each phase, from the client and from the servers' phase lines. */
const timelines = new Map<string, Record<string, number>>();
const wallNow = () => performance.timeOrigin + performance.now();

/** The servers' stderr: phase lines feed the timelines, the rest passes through. */
function phaseLine(line: string): void {
  if (!line.startsWith('{"phases"')) return void process.stderr.write(`${line}\n`);
  const { phases: side, runId, at, ...marks } = JSON.parse(line) as Record<string, number> & { phases: string; runId: string; at: number };
  const timeline = timelines.get(runId) ?? {};
  for (const [phase, ms] of Object.entries(marks)) timeline[`${side}: ${phase}`] = at + ms;
  timelines.set(runId, timeline);
}

/** Median ms from each phase to the next, over `ids`, phases in the order they happen. */
function breakdown(ids: readonly string[]): Record<string, number> {
  const lines = ids.map((id) => timelines.get(id)).filter((timeline) => timeline !== undefined);
  const median = (values: number[]) => pct(values, 0.5);
  const phases = [...new Set(lines.flatMap((timeline) => Object.keys(timeline)))];
  const at = new Map(phases.map((phase) => [phase, median(lines.flatMap((t) => (t[phase] === undefined ? [] : [t[phase] - (t["client: sent"] as number)])))]));
  phases.sort((a, b) => (at.get(a) as number) - (at.get(b) as number));
  const steps: Record<string, number> = {};
  phases.forEach((phase, i) => {
    if (i === 0) return;
    const before = phases[i - 1] as string;
    steps[`${before} → ${phase}`] = Number(median(lines.flatMap((t) => (t[phase] === undefined || t[before] === undefined ? [] : [t[phase] - t[before]]))).toFixed(2));
  });
  return steps;
}

/** The same program without Warren: python3 started directly. */
async function bare(): Promise<{ p50: number }> {
  const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const once = () => new Promise<void>((resolve, reject) => spawn(python, ["-c", PROGRAM], { stdio: "ignore" }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited with ${code}`)))).on("error", reject));
  for (let i = 0; i < 5; i += 1) await once();
  const times: number[] = [];
  for (let i = 0; i < N; i += 1) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return { p50: r1(pct(times, 0.5)) };
}

interface Latency { p50: number; p99: number; mean: number }

/**
 * N requests one after another. Back to back (GAP_MS 0), each request meets
 * the previous job's teardown and the pool's refill, which share the two
 * cores with it; paced, it arrives once they are done.
 */
async function latencies(base: string, gapMs: number, ids: string[] = []): Promise<Latency> {
  const times: number[] = [];
  for (let i = 0; i < N; i += 1) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const start = performance.now();
    ids.push(await run(base));
    times.push(performance.now() - start);
  }
  return { p50: r1(pct(times, 0.5)), p99: r1(pct(times, 0.99)), mean: r1(times.reduce((a, b) => a + b, 0) / times.length) };
}

async function measure(base: string): Promise<Latency & { paced: Latency & { gapMs: number }; phases?: Record<string, number> }> {
  for (let i = 0; i < 5; i += 1) await run(base); // warm-up
  const ids: string[] = [];
  const summary = await latencies(base, 0, ids);
  const paced = { gapMs: PACED_GAP_MS, ...(await latencies(base, PACED_GAP_MS)) };
  if (!PHASES) return { ...summary, paced };
  await new Promise((resolve) => setTimeout(resolve, 200)); // the last phase lines
  return { ...summary, paced, phases: breakdown(ids) };
}

async function run(base: string): Promise<string> {
  const sent = wallNow();
  const result = await postRun(base, BODY);
  if (result.verdict !== "accepted") throw new Error(`unexpected verdict: ${JSON.stringify(result)}`);
  if (PHASES) timelines.set(result.id, { ...timelines.get(result.id), "client: sent": sent, "client: answered": wallNow() });
  return result.id;
}

/** One Judge0 submission with wait=true: Accepted, or the bench stops. */
async function judge0Run(base: string): Promise<void> {
  const response = await fetch(`${base}/judge0/submissions?wait=true`, { method: "POST", headers: { "content-type": "application/json" }, body: JUDGE0_BODY });
  const text = await response.text();
  if (response.status !== 201 || (JSON.parse(text) as { status?: { id?: number } }).status?.id !== 3) throw new Error(`POST /judge0/submissions answered ${response.status}: ${text.slice(0, 2000)}`);
}

/** The same program through Piston's POST /piston/api/v2/execute (WARREN_COMPAT=piston). */
const PISTON_BODY = JSON.stringify({ language: "python", version: "*", files: [{ content: PROGRAM }] });

async function pistonExecute(base: string): Promise<void> {
  const response = await fetch(`${base}/piston/api/v2/execute`, { method: "POST", headers: { "content-type": "application/json" }, body: PISTON_BODY });
  const answer = (await response.json()) as { run?: { stdout?: string } };
  if (answer.run?.stdout !== "hi\n") throw new Error(`unexpected Piston answer: ${JSON.stringify(answer)}`);
}

/** Each compatible API's request beside /v1's (a Judge0 submission with wait=true, a Piston execute), alternated so all meet the same machine: median and p90 ms. */
async function compat(base: string): Promise<Record<string, { medianMs: number; p90Ms: number }>> {
  const requests = { v1: () => run(base), judge0: () => judge0Run(base), piston: () => pistonExecute(base) };
  const timed = async (request: unknown) => {
    const start = performance.now();
    await (request as () => Promise<unknown>)();
    return performance.now() - start;
  };
  return (await alternate(requests, timed, N, 5)).summary;
}

const results: Record<string, unknown> = { n: N, when: new Date().toISOString(), cpus: (await import("node:os")).cpus().length };
results.bare = await bare();
for (const start of [startEmbedded, startDistributed]) {
  const deployment = await start({ WARREN_COMPAT: "judge0,piston" }, PHASES ? phaseLine : undefined);
  try {
    results[deployment.mode] = { ...(await measure(deployment.base)), compat: await compat(deployment.base) };
  } finally {
    await deployment.stop();
  }
}
console.log(JSON.stringify(results, null, 2));
console.log(`# written: ${writeResult("service-latency", results)}`);
