// Warm invoke latency through the HTTP API, two (or more) builds alternated in one run, and where the time goes.
// Each tree's build is started side by side (embedded: `warren serve`; distributed: redis-server + serve --no-worker
// + one worker, each tree its own), a trivial Python and Node.js handler deployed on each, warmed up, then blocks of
// BLOCK back-to-back sync invocations alternate between the trees, ROUNDS times: both meet the same machine (other
// engineers' load included). Per tree: p50 of the answer's time, of the handler's own time (X-Warren-Handler-Ms:
// its call, as the shim measured it) and of the answer's time minus it (Warren's overhead, against the issue's
// targets: 3 ms embedded, 8 ms with Redis), of X-Warren-Duration-Ms, the share answered warm, and of GET /healthz
// (an HTTP round trip with nothing behind it: the floor of any answer here, the client's own share included).
// BENCH_PHASES=1 turns WARREN_PHASE_TIMINGS on and adds, per tree, the median time of each phase mark
// (docs/service.md: the API's and the worker's marks, joined by the invocation's id) from the client's send.
// usage: node --import tsx bench/functions-api-ab.ts [ROUNDS]     (results in bench/results/functions-api-ab-*.json)
//   BENCH_FN_TREES=/path/before,/path/after   (each built: `npm run build` there; default: this checkout alone)
//   BENCH_FN_MODES=embedded,distributed  BENCH_FN_LANGS=python,javascript  BENCH_BLOCK=10
import os from "node:os";
import { pct, r2, repo, startDistributed, startEmbedded, TRIVIAL_HANDLERS, writeResult, type Deployment } from "./common.js";

const ROUNDS = Number(process.argv[2] ?? 20);
const BLOCK = Number(process.env.BENCH_BLOCK ?? 10);
const TREES = (process.env.BENCH_FN_TREES ?? repo).split(",").filter((tree) => tree !== "");
const MODES = (process.env.BENCH_FN_MODES ?? "embedded,distributed").split(",") as ("embedded" | "distributed")[];
const LANGS = (process.env.BENCH_FN_LANGS ?? "python,javascript").split(",") as (keyof typeof HANDLERS)[];
const PHASES = process.env.BENCH_PHASES === "1";

const HANDLERS = TRIVIAL_HANDLERS;

interface Sample {
  readonly id: string;
  /** Wall-clock ms when the request was sent (joins the phase lines). */
  readonly sentAt: number;
  readonly ms: number;
  readonly handlerMs: number;
  readonly durationMs: number;
  readonly cold: boolean;
}

async function deploy(base: string, name: string, body: unknown): Promise<void> {
  const response = await fetch(`${base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`deploy of ${name}: ${response.status} ${await response.text()}`);
}

async function invoke(base: string, name: string): Promise<Sample> {
  const sentAt = performance.timeOrigin + performance.now();
  const start = performance.now();
  const response = await fetch(`${base}/v1/functions/${name}/invoke`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`invoke of ${name}: ${response.status} ${body}`);
  const header = (name: string) => response.headers.get(name);
  // a build without X-Warren-Handler-Ms (before it existed): the handler's time is unknown there, counted as 0
  return { id: header("x-warren-invocation-id") ?? "", sentAt, ms, handlerMs: Number(header("x-warren-handler-ms") ?? 0), durationMs: Number(header("x-warren-duration-ms")), cold: header("x-warren-cold") === "true" };
}

/** GET /healthz: an HTTP round trip through the same client, server and hono with nothing behind it (the floor of any answer's time here). */
async function healthz(base: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${base}/healthz`);
  await response.text();
  return performance.now() - start;
}

type PhaseLine = { phases: "api" | "worker"; runId: string; at: number } & Record<string, number>;

/** Per phase mark, the median of when it came, in ms after the client sent the request. */
function phaseMedians(samples: readonly Sample[], lines: ReadonlyMap<string, PhaseLine[]>): Record<string, number> {
  const byPhase = new Map<string, number[]>();
  for (const sample of samples) {
    for (const line of lines.get(sample.id) ?? []) {
      for (const [phase, ms] of Object.entries(line)) {
        if (phase === "phases" || phase === "runId" || phase === "at" || typeof ms !== "number") continue;
        const key = `${line.phases} ${phase}`;
        byPhase.set(key, [...(byPhase.get(key) ?? []), line.at + ms - sample.sentAt]);
      }
    }
  }
  const medians = [...byPhase].map(([phase, at]) => [phase, r2(pct(at, 0.5))] as const).sort((a, b) => a[1] - b[1]);
  return Object.fromEntries([...medians, ["client answered", r2(pct(samples.map((sample) => sample.ms), 0.5))]]);
}

function summary(samples: readonly Sample[]): Record<string, number> {
  const warm = samples.filter((sample) => !sample.cold);
  const of = (pick: (sample: Sample) => number) => r2(pct(warm.map(pick), 0.5));
  return {
    warmShare: r2(warm.length / samples.length),
    p50: of((sample) => sample.ms),
    p90: r2(pct(warm.map((sample) => sample.ms), 0.9)),
    handlerP50: of((sample) => sample.handlerMs),
    overheadP50: of((sample) => sample.ms - sample.handlerMs),
    durationP50: of((sample) => sample.durationMs),
  };
}

async function measure(mode: "embedded" | "distributed"): Promise<Record<string, unknown>> {
  const lines = new Map<string, PhaseLine[]>();
  const onStderr = (line: string) => {
    if (!line.startsWith('{"phases"')) return void process.stderr.write(`${line}\n`);
    const parsed = JSON.parse(line) as PhaseLine;
    lines.set(parsed.runId, [...(lines.get(parsed.runId) ?? []), parsed]);
  };
  const env = PHASES ? { WARREN_PHASE_TIMINGS: "1" } : {};
  const deployments: Deployment[] = [];
  try {
    for (const tree of TREES) deployments.push(mode === "embedded" ? await startEmbedded(env, onStderr, tree) : await startDistributed(env, onStderr, 1, tree));
    const out: Record<string, unknown> = {};
    for (const language of LANGS) {
      const name = `ab-${language}`;
      for (const deployment of deployments) {
        await deploy(deployment.base, name, HANDLERS[language]);
        for (let i = 0; i < 20; i += 1) await invoke(deployment.base, name); // warm-up: the pool follows the rate, the zygotes start
      }
      const samples = TREES.map(() => [] as Sample[]);
      const floors = TREES.map(() => [] as number[]);
      for (let round = 0; round < ROUNDS; round += 1) {
        // alternate which tree goes first, so that neither always follows the other's refill
        const order = round % 2 === 0 ? deployments.map((_, i) => i) : deployments.map((_, i) => deployments.length - 1 - i);
        for (const i of order) {
          for (let k = 0; k < BLOCK; k += 1) samples[i]!.push(await invoke(deployments[i]!.base, name));
          floors[i]!.push(await healthz(deployments[i]!.base));
        }
      }
      out[language] = Object.fromEntries(
        TREES.map((tree, i) => [
          tree,
          { ...summary(samples[i]!), healthzP50: r2(pct(floors[i]!, 0.5)), ...(PHASES ? { phases: phaseMedians(samples[i]!.filter((sample) => !sample.cold), lines) } : {}) },
        ]),
      );
      console.error(`${mode} ${language}: ${JSON.stringify(out[language])}`);
    }
    return out;
  } finally {
    for (const deployment of deployments) await deployment.stop();
  }
}

const results: Record<string, unknown> = { rounds: ROUNDS, block: BLOCK, trees: TREES, when: new Date().toISOString(), cpus: os.cpus().length, loadavgBefore: os.loadavg() };
for (const mode of MODES) results[mode] = await measure(mode);
results.loadavgAfter = os.loadavg();
console.log(JSON.stringify(results, null, 2));
console.log(`# written: ${writeResult("functions-api-ab", results)}`);
