// End-to-end latency of a trivial Python run through the HTTP API: N sequential
// POST /v1/runs?wait=true, embedded (serve) and distributed (redis-server +
// serve --no-worker + 1 worker). Needs `npm run build` and redis-server.
// usage: node --import tsx bench/service-latency.ts [N]     (results in bench/results/)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { freePort, startRedis } from "../test/helpers/redis-server.js";

const N = Number(process.argv[2] ?? 50);
const BODY = JSON.stringify({ language: "python", files: [{ path: "main.py", content: "print('hi')" }] });

function warren(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["bin/warren.js", ...args], { env: { ...process.env, WARREN_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

async function ready(base: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} never became ready`);
}

async function measure(base: string): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < 5; i += 1) await run(base); // warm-up
  const times: number[] = [];
  for (let i = 0; i < N; i += 1) {
    const start = performance.now();
    await run(base);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Number((times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] as number).toFixed(1));
  return { p50: at(0.5), p99: at(0.99), mean: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)) };
}

async function run(base: string): Promise<void> {
  const response = await fetch(`${base}/v1/runs?wait=true`, { method: "POST", headers: { "content-type": "application/json" }, body: BODY });
  const result = (await response.json()) as { verdict?: string };
  if (response.status !== 200 || result.verdict !== "accepted") throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(result)}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

const results: Record<string, unknown> = { n: N, when: new Date().toISOString(), cpus: (await import("node:os")).cpus().length };
{
  const port = await freePort();
  const server = warren(["serve", "--port", String(port), "--host", "127.0.0.1"], { REDIS_URL: "" });
  try {
    await ready(`http://127.0.0.1:${port}`);
    results.embedded = await measure(`http://127.0.0.1:${port}`);
  } finally {
    await stop(server);
  }
}
{
  const redis = await startRedis();
  const port = await freePort();
  const env = { REDIS_URL: redis.url };
  const api = warren(["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], env);
  const worker = warren(["worker"], env);
  try {
    await ready(`http://127.0.0.1:${port}`);
    results.distributed = await measure(`http://127.0.0.1:${port}`);
  } finally {
    await stop(worker);
    await stop(api);
    await redis.dispose();
  }
}
console.log(JSON.stringify(results, null, 2));
fs.mkdirSync("bench/results", { recursive: true });
fs.writeFileSync(`bench/results/service-latency-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "Z")}.json`, `${JSON.stringify(results, null, 2)}\n`);
