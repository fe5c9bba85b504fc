// Functions through the HTTP API, embedded (serve) and distributed (redis-server +
// serve --no-worker + 1 worker): a trivial Python and Node.js handler deployed
// with PUT /v1/functions/:name, then N sequential warm invocations (POST
// …/invoke, sync), each beside the handler's own time (X-Warren-Handler-Ms: its
// call, as the shim measured it) and the sandbox's part (X-Warren-Duration-Ms:
// from the event's delivery to the response), so that Warren's overhead is the
// answer's time minus the handler's, against the targets (3 ms
// embedded, 8 ms with Redis); the same code through
// POST /v1/runs?wait=true; the warm invocations again through Node's http client (warmLeanClient), each
// client beside its GET /healthz; paced warm invocations (warmPaced: one at a time, 150 ms apart, Node's http
// client); sustained invocations/s at 2, 4 and 8 in flight; and how many of a fresh
// version's first 20 invocations (one at a time) are cold.
// Needs `npm run build` and redis-server.
// usage: node --import tsx bench/functions-api.ts [N]     (results in bench/results/functions-api-*.json)
// BENCH_FN_MODES=distributed (or embedded) measures one mode only; BENCH_WORKERS=2 starts that many workers in
// distributed mode (where warm routing decides which of them runs an invocation).
import http from "node:http";
import { pct, pool, QUICK, r1, r2, startDistributed, startEmbedded, TRIVIAL_HANDLERS, writeResult, type Deployment } from "./common.js";

const N = Number(process.argv[2] ?? (QUICK ? 30 : 200));
/** paced invocations: one at a time, each PACE_MS after the last answer */
const PACED = QUICK ? 15 : 60;
const PACE_MS = 150;
const SUSTAINED = QUICK ? 40 : 200;

const HANDLERS = TRIVIAL_HANDLERS;
const RUNS = {
  python: { language: "python", files: [{ path: "main.py", content: "print('{\"ok\": true}')" }] },
  javascript: { language: "javascript", files: [{ path: "main.js", content: "console.log('{\"ok\": true}')" }] },
} as const;

async function deploy(base: string, name: string, body: unknown): Promise<void> {
  const response = await fetch(`${base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`deploy of ${name}: ${response.status} ${await response.text()}`);
}

async function invoke(base: string, name: string): Promise<{ ms: number; handlerMs: number; durationMs: number; cold: boolean }> {
  const start = performance.now();
  const response = await fetch(`${base}/v1/functions/${name}/invoke`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`invoke of ${name}: ${response.status} ${body}`);
  const header = (field: string) => response.headers.get(field);
  return { ms, handlerMs: Number(header("x-warren-handler-ms") ?? 0), durationMs: Number(header("x-warren-duration-ms")), cold: header("x-warren-cold") === "true" };
}

/**
 * The same invocation through Node's own http client on one kept-alive
 * connection: fetch (undici) spends a few tenths of a ms of the client's own per
 * request, which a gateway with a lean client does not pay. Both are reported,
 * each beside GET /healthz with the same client (the HTTP floor).
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function lean(url: string, method: "GET" | "POST", body?: string): Promise<{ ms: number; cold: boolean; handlerMs: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const request = http.request(url, { method, agent, headers }, (response) => {
      response.resume();
      response.on("end", () => {
        if (response.statusCode !== 200) reject(new Error(`${method} ${url}: ${response.statusCode}`));
        else resolve({ ms: performance.now() - start, cold: response.headers["x-warren-cold"] === "true", handlerMs: Number(response.headers["x-warren-handler-ms"] ?? 0) });
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function floor(base: string): Promise<{ fetchP50: number; leanP50: number }> {
  const viaFetch: number[] = [];
  const viaLean: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const start = performance.now();
    await (await fetch(`${base}/healthz`)).text();
    viaFetch.push(performance.now() - start);
    viaLean.push((await lean(`${base}/healthz`, "GET")).ms);
  }
  return { fetchP50: r2(pct(viaFetch, 0.5)), leanP50: r2(pct(viaLean, 0.5)) };
}

async function run(base: string, body: unknown): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${base}/v1/runs?wait=true`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const result = (await response.json()) as { verdict?: string };
  if (result.verdict !== "accepted") throw new Error(`run: ${JSON.stringify(result)}`);
  return performance.now() - start;
}

async function measure(deployment: Deployment): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const httpFloor = await floor(deployment.base);
  for (const [language, body] of Object.entries(HANDLERS)) {
    const name = `bench-${language}`;
    await deploy(deployment.base, name, body);
    const first = await invoke(deployment.base, name);
    for (let i = 0; i < 10; i += 1) await invoke(deployment.base, name); // warm-up: the pool follows the rate
    const samples: { ms: number; handlerMs: number; durationMs: number; cold: boolean }[] = [];
    for (let i = 0; i < N; i += 1) samples.push(await invoke(deployment.base, name));
    const leanSamples: { ms: number; cold: boolean }[] = [];
    for (let i = 0; i < N; i += 1) leanSamples.push(await lean(`${deployment.base}/v1/functions/${name}/invoke`, "POST", "{}"));
    const leanWarm = leanSamples.filter((sample) => !sample.cold).map((sample) => sample.ms);
    // Paced: each invocation PACE_MS after the last answer, time enough for the worker to have the next container
    // (or zygote child) ready and the cores quiet again: the latency of a warm invocation as such, where back to back
    // (above) each also competes with the making of the next one (a fresh Node.js process is some 30 ms of CPU).
    const pacedSamples: { ms: number; cold: boolean; handlerMs: number }[] = [];
    for (let i = 0; i < PACED; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      pacedSamples.push(await lean(`${deployment.base}/v1/functions/${name}/invoke`, "POST", "{}"));
    }
    const pacedWarm = pacedSamples.filter((sample) => !sample.cold);
    const warm = samples.filter((sample) => !sample.cold);
    const ms = warm.map((sample) => sample.ms);
    const overhead = warm.map((sample) => sample.ms - sample.handlerMs);
    const runs: number[] = [];
    for (let i = 0; i < Math.min(N, 50); i += 1) runs.push(await run(deployment.base, RUNS[language as keyof typeof RUNS]));
    const sustained: Record<string, number> = {};
    for (const inFlight of [2, 4, 8]) {
      const ms = await pool(SUSTAINED, inFlight, async () => {
        await invoke(deployment.base, name);
      });
      sustained[`${inFlight} in flight`] = r1(SUSTAINED / (ms / 1000));
    }
    // A freshly deployed version invoked one at a time, 100 ms apart (time for its worker to prepare the next container
    // and say so): how many of the first 20 are cold. With several workers and no routing, each worker the queue hands
    // one to pays its own cold start; with warm routing, the worker that has one ready takes it.
    await deploy(deployment.base, `${name}-fresh`, body);
    let coldAfterDeploy = 0;
    for (let i = 0; i < 20; i += 1) {
      if ((await invoke(deployment.base, `${name}-fresh`)).cold) coldAfterDeploy += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    out[language] = {
      firstInvoke: { ms: r1(first.ms), cold: first.cold },
      coldOfFirst20AfterDeploy: coldAfterDeploy,
      warm: {
        count: warm.length,
        of: samples.length,
        p50: r1(pct(ms, 0.5)),
        p99: r1(pct(ms, 0.99)),
        handlerP50: r2(pct(warm.map((sample) => sample.handlerMs), 0.5)),
        durationP50: r2(pct(warm.map((sample) => sample.durationMs), 0.5)),
        overheadP50: r2(pct(overhead, 0.5)),
        overheadTarget: deployment.mode === "embedded" ? 3 : 8,
        healthzP50: httpFloor.fetchP50,
      },
      warmLeanClient: { count: leanWarm.length, of: leanSamples.length, p50: r2(pct(leanWarm, 0.5)), p99: r1(pct(leanWarm, 0.99)), healthzP50: httpFloor.leanP50 },
      warmPaced: {
        paceMs: PACE_MS,
        count: pacedWarm.length,
        of: pacedSamples.length,
        p50: r2(pct(pacedWarm.map((sample) => sample.ms), 0.5)),
        p99: r1(pct(pacedWarm.map((sample) => sample.ms), 0.99)),
        handlerP50: r2(pct(pacedWarm.map((sample) => sample.handlerMs), 0.5)),
        overheadP50: r2(pct(pacedWarm.map((sample) => sample.ms - sample.handlerMs), 0.5)),
        overheadTarget: deployment.mode === "embedded" ? 3 : 8,
      },
      sameCodeAsRun: { p50: r1(pct(runs, 0.5)), p99: r1(pct(runs, 0.99)) },
      invocationsPerSecond: sustained,
    };
  }
  return out;
}

const results: Record<string, unknown> = { n: N, when: new Date().toISOString(), cpus: (await import("node:os")).cpus().length };
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const MODES = (process.env.BENCH_FN_MODES ?? "embedded,distributed").split(",");
const starts = { embedded: () => startEmbedded(), distributed: () => startDistributed({}, undefined, WORKERS) } as const;
results.workers = WORKERS;
for (const mode of MODES) {
  const start = starts[mode as keyof typeof starts];
  if (start === undefined) throw new Error(`BENCH_FN_MODES: unknown mode ${mode} (embedded, distributed)`);
  const deployment = await start();
  try {
    results[deployment.mode] = await measure(deployment);
  } finally {
    await deployment.stop();
  }
}
console.log(JSON.stringify(results, null, 2));
console.log(`# written: ${writeResult("functions-api", results)}`);
