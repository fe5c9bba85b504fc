// CPU per run (issue 15): trivial Python (`pass`) started N times, at 2 and 4
// in flight, four ways side by side in one run:
//
//   bare       python3 -c pass, spawned by this process
//   bwrap      bubblewrap with every namespace unshared around the same program (when bwrap is installed)
//   embedded   POST /v1/runs?wait=true through `warren serve` (in-process queue)
//   distributed  the same through redis + `warren serve --no-worker` + one `warren worker`
//   floor-*    (asked by name, not defaults) the same request to bench/node-floor.mjs: a bare Node HTTP server
//              that spawns `python3 -c pass` per request, no sandbox: what Node itself costs for the HTTP and a
//              spawn with three pipes (docs/performance.md, "The floor"). floor: node:http and
//              child_process.spawn; floor-fast: node:http and Warren's spawner; floor-hono: hono and Warren's
//              spawner; floor-http: node:http answering without a spawn (the HTTP alone; no program runs)
//   launch     (asked by name) the sandbox alone: a one-shot `warren-launch` around the same program, started
//              as bwrap is — the host image's root and binds, a cgroup in each hierarchy with a run's default
//              limits (memory, processes, CPU time and quota, wall time, output, open files, file size), what
//              a run's container and execution get; no service. launch-nocg: the same without the cgroups and
//              their limits (rlimits and the wall time only), the isolation closest to bubblewrap's
//
// For each: runs/s, and CPU per run in ms — the machine's (/proc/stat: every
// core's busy time, kernel threads included), this benchmark's own process
// (the client: spawning, or HTTP), and the Warren processes' own (the API and
// the worker: /proc/PID/stat utime + stime) and their reaped children's (the
// launchers, their inits and the programs: cutime + cstime; for bare and
// bwrap, this process's children — for bwrap only what its first process
// reaped: its pid 1 is not waited for, so there the machine's column is the
// one to compare). What remains of
// the machine's after the client, Warren and its children is the kernel's
// work in its own threads (a network namespace's cleanup, say) and whatever
// else ran: run it on a quiet machine. The variants alternate in halves
// (A B C D A B C D) so drift in the machine's load hits them alike; every
// run's answer is checked.
//
// --baseline DIR adds embedded and distributed variants run from another
// built checkout (named embedded@base, distributed@base), alternated with
// this one's in the same run: a change's cost or saving, before and after on
// the same machine. --flags-b "FLAGS" adds embedded@flags and
// distributed@flags: this checkout with FLAGS for the Node of its processes
// (V8's too, e.g. "--max-semi-space-size=32"), alternated with the same
// without them. --rounds N alternates in N parts instead of 2.
// BENCH_CPU_PROF=DIR profiles the Warren processes (bench/common.ts).
// The default warm-up (20 runs) leaves V8 compiling the server's hot paths
// while it is measured (its compiler threads count in the Node column):
// --warmup 1500 measures a warm server (docs/performance.md).
//
// usage: node --import tsx bench/cpu.ts [--count 200] [--concurrency 2,4] [--modes bare,bwrap,embedded,distributed] [--baseline DIR] [--flags-b FLAGS] [--rounds 2]
//        BENCH_QUICK=1 for small counts. Needs `npm run build` (and redis-server for distributed). Results: bench/results/cpu-*.json
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import { resolveDataDir } from "../src/config/data-dir.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../src/sandbox/cgroup/index.js";
import { spawnLauncher } from "../src/sandbox/container/fast-spawn.js";
import { containerArgs, execArgs } from "../src/sandbox/container/launch-args.js";
import { BUILT_LAUNCHER } from "../src/sandbox/container/launcher-path.js";
import { loadHostImage } from "../src/sandbox/images/host-image.js";
import { DEFAULT_RUN_LIMITS } from "../src/run/limits.js";
import { execLimits } from "../src/worker/stage-exec.js";
import { freePort } from "../test/helpers/redis-server.js";
import { machine, pool, QUICK, r2, repo, startDistributed, startEmbedded, stopChild, table, timedRun, waitReady, writeResult, type Deployment } from "./common.js";

const { values: opts } = parseArgs({
  options: {
    count: { type: "string", default: QUICK ? "20" : "200" },
    warmup: { type: "string", default: QUICK ? "4" : "20" },
    concurrency: { type: "string", default: "2,4" },
    modes: { type: "string", default: "bare,bwrap,embedded,distributed" },
    baseline: { type: "string" },
    "flags-b": { type: "string" },
    rounds: { type: "string", default: "2" },
  },
});
const COUNT = Number(opts.count);
const WARMUP = Number(opts.warmup);
const CONCURRENCY = opts.concurrency.split(",").map(Number);
const BASELINE = opts.baseline === undefined ? undefined : path.resolve(opts.baseline);
const FLAGS_B = opts["flags-b"] === undefined || opts["flags-b"].trim() === "" ? undefined : opts["flags-b"].trim();
const ROUNDS = Math.max(1, Math.min(COUNT, Number(opts.rounds) || 2));
const PYTHON = "/usr/bin/python3";
const BWRAP = ["/usr/bin/bwrap", "/bin/bwrap"].find((file) => fs.existsSync(file));
const MODES = opts.modes.split(",").filter((mode) => mode !== "" && (mode !== "bwrap" || BWRAP !== undefined));
/** Kernel clock ticks per second, the unit of /proc/stat and /proc/PID/stat. */
const HZ = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
const tickMs = 1000 / HZ;

/** Busy ticks of every core (user, nice, system, irq, softirq, steal; not idle or iowait). */
function machineTicks(): number {
  const [, user, nice, system, , , irq, softirq, steal] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

/** A process's own ticks (utime + stime) and its reaped children's (cutime + cstime); zeros once it is gone. */
function processTicks(pid: number): { self: number; children: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // the fields after the command (in parentheses, which may hold spaces): state is field 3
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return { self: fields[11]! + fields[12]!, children: fields[13]! + fields[14]! };
  } catch {
    return { self: 0, children: 0 };
  }
}

interface Cpu {
  machine: number;
  client: number;
  warrenSelf: number;
  warrenChildren: number;
}

/** Reads every CPU counter at once; the difference of two readings is what a stretch of runs cost. */
function readCpu(pids: readonly number[]): Cpu {
  const own = process.cpuUsage();
  let warrenSelf = 0;
  let warrenChildren = 0;
  for (const pid of pids) {
    const t = processTicks(pid);
    warrenSelf += t.self * tickMs;
    warrenChildren += t.children * tickMs;
  }
  // bare and bwrap: the programs are this process's own children
  if (pids.length === 0) warrenChildren = processTicks(process.pid).children * tickMs;
  return { machine: machineTicks() * tickMs, client: (own.user + own.system) / 1000, warrenSelf, warrenChildren };
}

const minus = (a: Cpu, b: Cpu): Cpu => ({ machine: a.machine - b.machine, client: a.client - b.client, warrenSelf: a.warrenSelf - b.warrenSelf, warrenChildren: a.warrenChildren - b.warrenChildren });
const plus = (a: Cpu, b: Cpu): Cpu => ({ machine: a.machine + b.machine, client: a.client + b.client, warrenSelf: a.warrenSelf + b.warrenSelf, warrenChildren: a.warrenChildren + b.warrenChildren });
const ZERO: Cpu = { machine: 0, client: 0, warrenSelf: 0, warrenChildren: 0 };

/**
 * Runs ARGV to its end (bare and bwrap). Started with Warren's own spawner (posix_spawn, as Warren starts its
 * launchers), not child_process.spawn: libuv forks this whole Node process for each child, some 1.7 ms of CPU
 * per start here, which the machine's column would charge to bubblewrap (BENCH_NODE_SPAWN=1: child_process.spawn,
 * as this benchmark did before).
 */
function child(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const process_ = spawnLauncher(argv[0]!, argv.slice(1), { nodeSpawn: process.env.BENCH_NODE_SPAWN === "1" });
    const err: Buffer[] = [];
    process_.stdin?.end();
    process_.stdout?.resume();
    process_.stderr?.on("data", (b: Buffer) => err.push(b));
    process_.on("error", reject);
    process_.on("close", (code: number | null) => (code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} exited ${code}: ${Buffer.concat(err).toString().slice(0, 1000)}`))));
  });
}

// Every namespace bubblewrap can make, the host's /usr read-only, fresh /proc, /dev and /tmp.
const bwrapArgv = [
  BWRAP ?? "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
  "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
  "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
  PYTHON, "-c", "pass",
];

/**
 * A one-shot warren-launch around the same program (modes launch and launch-nocg): the host image's root and
 * binds and a run's scratch, with a run's default limits in a cgroup per hierarchy (as a run's container and
 * its one execution get them), or without cgroups (only the limits that need none).
 */
function launchArgv(withCgroups: boolean): string[] {
  const settings = loadSettings(process.env, "serve").sandbox;
  const image = loadHostImage(resolveDataDir(settings.dataDir));
  const limits = execLimits(DEFAULT_RUN_LIMITS);
  let cgroups: string[] = [];
  if (withCgroups) {
    const driver = detectCgroupDriver();
    cgroups = driver.parents(resolveCgroupRoot(driver, settings.cgroupRoot));
  }
  const container = containerArgs({ rootfs: image.rootfs, binds: image.binds, scratchMb: DEFAULT_RUN_LIMITS.diskMb, cgroups });
  const exec = execArgs({
    hasCgroups: withCgroups,
    argv: [PYTHON, "-c", "pass"],
    limits: withCgroups ? limits : { wallTimeMs: limits.wallTimeMs, outputKb: limits.outputKb, openFiles: limits.openFiles, fileSizeMb: limits.fileSizeMb },
  });
  return [settings.launcher ?? BUILT_LAUNCHER, ...container, ...exec];
}

/** The floors' modes and their servers' flags. */
const FLOORS: Readonly<Record<string, readonly string[]>> = { "floor-http": ["--no-spawn"], floor: [], "floor-fast": ["--fast-spawn"], "floor-hono": ["--hono", "--fast-spawn"] };

/** bench/node-floor.mjs on a free port (the Node that runs this benchmark). */
async function startFloor(flags: readonly string[]): Promise<Deployment> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(repo, "bench/node-floor.mjs"), String(port), ...flags], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
  await waitReady(base, [server]);
  return { mode: "embedded", base, pids: { api: server.pid! }, stop: () => stopChild(server) };
}

const BODY = JSON.stringify({ language: "python", files: [{ path: "main.py", content: "pass\n" }] });

interface Variant {
  name: string;
  pids: number[];
  task: () => Promise<void>;
}

const results: Record<string, unknown>[] = [];
let failed = false;
const deployments: Deployment[] = [];
console.log(`# cpu: trivial Python, ${COUNT} runs per variant and concurrency after ${WARMUP} warm-up, ${os.cpus().length} cores, ${HZ} ticks/s${QUICK ? " (quick)" : ""}`);
try {
  const variants: Variant[] = [];
  for (const mode of MODES) {
    if (mode === "bare") variants.push({ name: "bare", pids: [], task: () => child([PYTHON, "-c", "pass"]) });
    else if (mode === "bwrap") variants.push({ name: "bwrap", pids: [], task: () => child(bwrapArgv) });
    else if (mode === "launch" || mode === "launch-nocg") {
      const argv = launchArgv(mode === "launch");
      variants.push({ name: mode, pids: [], task: () => child(argv) });
    }
    else if (mode in FLOORS) {
      const deployment = await startFloor(FLOORS[mode]!);
      deployments.push(deployment);
      const base = deployment.base;
      variants.push({
        name: mode,
        pids: Object.values(deployment.pids),
        task: async () => {
          const { result } = await timedRun(base, BODY);
          if (result.verdict !== "accepted") throw new Error(`wrong answer from the floor: ${JSON.stringify(result).slice(0, 2000)}`);
        },
      });
    }
    else if (mode === "embedded" || mode === "distributed") {
      const kinds: { suffix: string; checkout?: string; env: NodeJS.ProcessEnv }[] = [{ suffix: "", env: {} }];
      if (BASELINE !== undefined) kinds.push({ suffix: "@base", checkout: BASELINE, env: {} });
      if (FLAGS_B !== undefined) kinds.push({ suffix: "@flags", env: { BENCH_WARREN_NODE_FLAGS: `${process.env.BENCH_WARREN_NODE_FLAGS ?? ""} ${FLAGS_B}` } });
      for (const { suffix, checkout, env } of kinds) {
        const deployment = mode === "embedded" ? await startEmbedded(env, undefined, checkout) : await startDistributed(env, undefined, 1, checkout);
        deployments.push(deployment);
        const base = deployment.base;
        variants.push({
          name: `${mode}${suffix}`,
          pids: Object.values(deployment.pids),
          task: async () => {
            const { result } = await timedRun(base, BODY);
            if (result.verdict !== "accepted") throw new Error(`wrong answer from the API: ${JSON.stringify(result).slice(0, 2000)}`);
          },
        });
      }
    } else throw new Error(`unknown mode ${mode} (bare, bwrap, launch, launch-nocg, embedded, distributed, ${Object.keys(FLOORS).join(", ")})`);
  }
  for (const variant of variants) await pool(WARMUP, Math.max(...CONCURRENCY), variant.task);
  for (const inFlight of CONCURRENCY) {
    const spent = new Map(variants.map((v) => [v.name, { ms: 0, cpu: ZERO }]));
    const parts = Array.from({ length: ROUNDS }, (_, i) => Math.floor((COUNT * (i + 1)) / ROUNDS) - Math.floor((COUNT * i) / ROUNDS));
    for (const n of parts) {
      for (const variant of variants) {
        const before = readCpu(variant.pids);
        const ms = await pool(n, inFlight, variant.task);
        const after = readCpu(variant.pids);
        const sum = spent.get(variant.name)!;
        sum.ms += ms;
        sum.cpu = plus(sum.cpu, minus(after, before));
      }
    }
    const bwrapRate = spent.has("bwrap") ? COUNT / (spent.get("bwrap")!.ms / 1000) : undefined;
    for (const variant of variants) {
      const { ms, cpu } = spent.get(variant.name)!;
      const perRun = (x: number) => r2(x / COUNT);
      const runsPerSecond = r2(COUNT / (ms / 1000));
      const row = {
        variant: variant.name,
        inFlight,
        runs: COUNT,
        runsPerSecond,
        vsBwrap: bwrapRate === undefined ? null : r2(runsPerSecond / bwrapRate),
        cpuMsPerRun: {
          machine: perRun(cpu.machine),
          client: perRun(cpu.client),
          warren: variant.pids.length === 0 ? null : perRun(cpu.warrenSelf),
          children: perRun(cpu.warrenChildren),
          rest: perRun(cpu.machine - cpu.client - cpu.warrenSelf - cpu.warrenChildren),
        },
      };
      results.push(row);
      console.log(`${variant.name} ×${inFlight}: ${runsPerSecond} runs/s${row.vsBwrap === null ? "" : ` (${row.vsBwrap}× bwrap)`}, CPU per run ${JSON.stringify(row.cpuMsPerRun)}`);
    }
  }
} catch (error) {
  console.error(`FAIL: ${(error as Error).stack ?? error}`);
  failed = true;
} finally {
  for (const deployment of deployments) await deployment.stop();
}

const cell = (x: number | null) => (x === null ? "-" : x.toFixed(2));
console.log();
console.log(
  table(
    ["variant", "in flight", "runs/s", "× bwrap", "CPU ms/run: machine", "client", "Warren's Node", "children: launchers, inits, programs (bare, bwrap, launch: the programs)", "rest (kernel threads, other)"],
    results.map((r: any) => [r.variant, r.inFlight, r.runsPerSecond.toFixed(1), cell(r.vsBwrap), cell(r.cpuMsPerRun.machine), cell(r.cpuMsPerRun.client), cell(r.cpuMsPerRun.warren), cell(r.cpuMsPerRun.children), cell(r.cpuMsPerRun.rest)]),
  ),
);
// Issue 15's targets, against this run's own bubblewrap: the API's rate (embedded ≥ 0.9×, distributed ≥ 0.8×),
// Warren's Node CPU per run (≤ 1.5 ms embedded, ≤ 2.5 ms API and worker together), and the sandbox's own cost
// for the same isolation (launch-nocg, which sets no limit, as bubblewrap does not: its machine CPU per run ≤
// bubblewrap's).
const TARGETS: Readonly<Record<string, { vsBwrap: number; nodeMs: number }>> = { embedded: { vsBwrap: 0.9, nodeMs: 1.5 }, distributed: { vsBwrap: 0.8, nodeMs: 2.5 } };
const verdict = (ok: boolean) => (ok ? "met" : "not met");
const targets: Record<string, unknown>[] = [];
for (const r of results as any[]) {
  const target = TARGETS[r.variant];
  if (target !== undefined && r.vsBwrap !== null) {
    targets.push({ variant: r.variant, inFlight: r.inFlight, what: `× bwrap ≥ ${target.vsBwrap}`, value: r.vsBwrap, met: r.vsBwrap >= target.vsBwrap });
    targets.push({ variant: r.variant, inFlight: r.inFlight, what: `Warren's Node ms/run ≤ ${target.nodeMs}`, value: r.cpuMsPerRun.warren, met: r.cpuMsPerRun.warren <= target.nodeMs });
  }
  const bwrap = r.variant === "launch-nocg" ? (results as any[]).find((b) => b.variant === "bwrap" && b.inFlight === r.inFlight) : undefined;
  if (bwrap !== undefined) {
    // a strict comparison: within this run's noise (a few %) it says "not met" as often as "met"; the ratio is printed too
    targets.push({ variant: r.variant, inFlight: r.inFlight, what: `machine ms/run ≤ bwrap's (${bwrap.cpuMsPerRun.machine.toFixed(2)})`, value: r.cpuMsPerRun.machine, ratio: r2(r.cpuMsPerRun.machine / bwrap.cpuMsPerRun.machine), met: r.cpuMsPerRun.machine <= bwrap.cpuMsPerRun.machine });
  }
}
if (targets.length > 0) {
  console.log();
  console.log(table(["target (issue 15)", "in flight", "variant", "measured", ""], targets.map((t: any) => [t.what, t.inFlight, t.variant, t.ratio === undefined ? cell(t.value) : `${cell(t.value)} (${t.ratio}× bwrap's)`, verdict(t.met)])));
}
console.log(`# written: ${writeResult("cpu", { date: new Date().toISOString(), machine: machine(), quick: QUICK, ok: !failed, config: { count: COUNT, warmup: WARMUP, concurrency: CONCURRENCY, modes: MODES, hz: HZ, rounds: ROUNDS, ...(BASELINE === undefined ? {} : { baseline: BASELINE }), ...(FLAGS_B === undefined ? {} : { flagsB: FLAGS_B }) }, results, targets })}`);
if (failed) process.exit(1);
