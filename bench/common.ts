// Shared helpers of the TypeScript benchmarks (throughput, scaling, service-latency, load, summary, all):
// starting `warren serve` (embedded) or redis + `serve --no-worker` + a worker
// (distributed) on 127.0.0.1, posting runs, percentiles, RSS, result files.
// The servers run the built CLI (bin/warren.js → dist/): `npm run build` first.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { freePort, startRedis } from "../test/helpers/redis-server.js";

export const repo = path.resolve(import.meta.dirname, "..");
/** BENCH_QUICK=1: small counts, for a smoke test of the whole suite in a couple of minutes. */
export const QUICK = process.env.BENCH_QUICK === "1" || process.env.BENCH_QUICK === "true";

/** A trivial handler per language, as deployed by the functions benchmarks (`PUT /v1/functions/:name` bodies). */
export const TRIVIAL_HANDLERS = {
  python: { language: "python", handler: "main.handler", files: [{ path: "main.py", content: "def handler(event, context):\n    return {'ok': True}\n" }] },
  javascript: { language: "javascript", handler: "main.handler", files: [{ path: "main.js", content: "exports.handler = async (event, context) => ({ ok: true });\n" }] },
} as const;

export function machine(): { cpus: number; memoryMb: number; kernel: string; uid: number | undefined } {
  return { cpus: os.cpus().length, memoryMb: Math.round(os.totalmem() / 2 ** 20), kernel: os.release(), uid: process.getuid?.() };
}

/** A running Warren deployment on loopback: its base URL and the processes to measure. */
export interface Deployment {
  readonly mode: "embedded" | "distributed";
  readonly base: string;
  /** name → pid, for RSS (embedded: `api`; distributed: `api`, `worker`). */
  readonly pids: Readonly<Record<string, number>>;
  /** Distributed: the Redis it runs on (bench/redis-commands.ts watches it). */
  readonly redisUrl?: string;
  stop(): Promise<void>;
}

/** Each line a warren process writes to stderr, when a benchmark wants them (else they pass through). */
export type StderrLines = (line: string) => void;

/**
 * BENCH_CPU_PROF=DIR: every warren process a benchmark starts runs under
 * `node --cpu-prof` and writes its profile into DIR when it stops (named by
 * a directory per role: serve, serve-no-worker, worker). A profiling aid only: the
 * profiler's own cost lands in the CPU columns.
 */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF === undefined || process.env.BENCH_CPU_PROF === "" ? undefined : path.resolve(process.env.BENCH_CPU_PROF);

function profileFlags(args: readonly string[]): string[] {
  if (CPU_PROF_DIR === undefined) return [];
  const role = args.filter((arg) => arg === "serve" || arg === "worker" || arg === "--no-worker").map((arg) => arg.replace(/^-+/, "")).join("-");
  // BENCH_CPU_PROF_INTERVAL: the sampling interval in µs (V8's default is 1000): finer for short paced requests
  const interval = process.env.BENCH_CPU_PROF_INTERVAL;
  return ["--cpu-prof", "--cpu-prof-dir", path.join(CPU_PROF_DIR, role), ...(interval === undefined || interval === "" ? [] : [`--cpu-prof-interval=${interval}`])];
}

/**
 * BENCH_WARREN_NODE_FLAGS: more flags for the Node of every warren process a
 * benchmark starts (space-separated; V8's too, e.g. --no-flush-bytecode); in
 * the ENV given for one deployment, for that one's processes only.
 */
function nodeFlags(env: NodeJS.ProcessEnv): string[] {
  return (env.BENCH_WARREN_NODE_FLAGS ?? process.env.BENCH_WARREN_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
}

/** `checkout`: the built Warren to run (another checkout's, e.g. a baseline to compare with); default this one. */
function warren(args: string[], env: NodeJS.ProcessEnv, onStderr?: StderrLines, checkout: string = repo): ChildProcess {
  if (!fs.existsSync(path.join(checkout, "dist/cli/main.js"))) throw new Error(`${checkout}/dist is missing: run \`npm run build\` there first`);
  const child = spawn(process.execPath, [...nodeFlags(env), ...profileFlags(args), path.join(checkout, "bin/warren.js"), ...args], {
    cwd: checkout,
    // No rate limit: a benchmark sends more than the default 600 requests a minute.
    env: { ...process.env, WARREN_LOG_LEVEL: "warn", WARREN_RATE_LIMIT: "0", ...env },
    stdio: ["ignore", "ignore", onStderr === undefined ? "inherit" : "pipe"],
  });
  if (onStderr !== undefined && child.stderr !== null) readline.createInterface({ input: child.stderr }).on("line", onStderr);
  return child;
}

/** Waits until `base` answers /readyz with 200; fails at once when one of `children` has exited. */
export async function waitReady(base: string, children: readonly ChildProcess[]): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    const dead = children.find((child) => child.exitCode !== null || child.signalCode !== null);
    if (dead !== undefined) throw new Error(`a warren process exited before ${base} was ready (code ${dead.exitCode}, signal ${dead.signalCode})`);
    if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} never became ready`);
}

/** Stops a child we started, by its pid (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** `warren serve` with its embedded worker (in-process queue). */
export async function startEmbedded(env: NodeJS.ProcessEnv = {}, onStderr?: StderrLines, checkout: string = repo): Promise<Deployment> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = warren(["serve", "--port", String(port), "--host", "127.0.0.1"], { REDIS_URL: "", ...env }, onStderr, checkout);
  try {
    await waitReady(base, [api]);
  } catch (error) {
    await stopChild(api);
    throw error;
  }
  return { mode: "embedded", base, pids: { api: api.pid! }, stop: () => stopChild(api) };
}

/** redis-server + `warren serve --no-worker` + one `warren worker`. */
export async function startDistributed(env: NodeJS.ProcessEnv = {}, onStderr?: StderrLines, workers = 1, checkout: string = repo): Promise<Deployment> {
  const redis = await startRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const all = { REDIS_URL: redis.url, ...env };
  const api = warren(["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], all, onStderr, checkout);
  const started = Array.from({ length: Math.max(1, workers) }, () => warren(["worker"], all, onStderr, checkout));
  const stop = async () => {
    for (const worker of started) await stopChild(worker);
    await stopChild(api);
    await redis.dispose();
  };
  try {
    await waitReady(base, [api, ...started]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { mode: "distributed", base, pids: { api: api.pid!, worker: started[0]!.pid! }, redisUrl: redis.url, stop };
}

export interface RunResult {
  id: string;
  status: string;
  verdict: string | null;
  compile: { status: string; stdout: string; stderr: string } | null;
  run: { status: string; stdout: string; stderr: string; stdoutTruncated: boolean; wallTimeMs: number } | null;
  tests: { name: string; verdict: string; wallTimeMs: number }[] | null;
}

/** POST /v1/runs?wait=true; throws on anything but 200 + a completed run. */
export async function postRun(base: string, body: string): Promise<RunResult> {
  const response = await fetch(`${base}/v1/runs?wait=true`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /v1/runs answered ${response.status}: ${text.slice(0, 2000)}`);
  const result = JSON.parse(text) as RunResult;
  if (result.status !== "completed") throw new Error(`run not completed: ${text.slice(0, 2000)}`);
  return result;
}

/** postRun, timed: the run and its round trip in ms. */
export async function timedRun(base: string, body: string): Promise<{ ms: number; result: RunResult }> {
  const start = performance.now();
  const result = await postRun(base, body);
  return { ms: performance.now() - start, result };
}

/** Runs `task(i)` for i in [0, count) with at most `inFlight` at once; resolves to the wall time in ms. */
export async function pool(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  return performance.now() - start;
}

/** Nearest-rank percentile of unsorted values. */
export function pct(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const r1 = (x: number): number => Math.round(x * 10) / 10;
export const r2 = (x: number): number => Math.round(x * 100) / 100;

/** VmRSS of a process in KiB (0 when it is gone). */
export function rssKb(pid: number): number {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]);
  } catch {
    return 0;
  }
}

export function rssOf(deployment: Deployment): Record<string, number> {
  return Object.fromEntries(Object.entries(deployment.pids).map(([name, pid]) => [name, rssKb(pid)]));
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A time as result files name it: 20261123T041818Z (UTC). */
export function stamp(iso: string = new Date().toISOString()): string {
  return iso.replace(/[-:]/g, "").replace(/\..*/, "Z");
}

/** Writes bench/results/KIND-<UTC stamp>.json and returns its path. */
export function writeResult(kind: string, data: unknown): string {
  const dir = path.join(repo, "bench/results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${stamp()}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return path.relative(repo, file);
}

/** The newest bench/results/KIND-*.json, parsed, with its file name; undefined when there is none. */
export function newestResult(kind: string): { file: string; data: any } | undefined {
  const dir = path.join(repo, "bench/results");
  if (!fs.existsSync(dir)) return undefined;
  const pattern = new RegExp(`^${kind}-\\d{8}T\\d{6}Z\\.json$`);
  const files = fs.readdirSync(dir).filter((f) => pattern.test(f)).sort();
  const file = files.at(-1);
  if (file === undefined) return undefined;
  return { file: `bench/results/${file}`, data: JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) };
}

/**
 * Times each of `requests` (named) once per round, alternating them so that
 * both meet the same machine, after `warmup` rounds not counted; their
 * median and p90 in ms, and every time.
 */
export async function alternate<K extends string>(
  requests: Readonly<Record<K, unknown>>,
  timed: (request: unknown) => Promise<number>,
  rounds: number,
  warmup: number,
): Promise<{ summary: Record<K, { medianMs: number; p90Ms: number }>; raw: Record<K, number[]> }> {
  const names = Object.keys(requests) as K[];
  for (let i = 0; i < warmup; i += 1) for (const name of names) await timed(requests[name]);
  const raw = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < rounds; i += 1) for (const name of names) raw[name].push(await timed(requests[name]));
  const summary = Object.fromEntries(names.map((name) => [name, { medianMs: r2(pct(raw[name], 0.5)), p90Ms: r2(pct(raw[name], 0.9)) }])) as Record<K, { medianMs: number; p90Ms: number }>;
  return { summary, raw };
}
