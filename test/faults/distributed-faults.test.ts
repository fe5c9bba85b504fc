/* Faults of the distributed mode with real processes: Redis stopped and
 * started again while a job runs, the API killed and restarted with jobs
 * in flight, and a worker killed mid-session. Every accepted job completes
 * exactly once (one "run finished" per id in the workers' logs) and its
 * result stays readable; a session is never run twice. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { runResultSchema } from "../../src/run/result-schema.js";
import { eventually } from "../helpers/eventually.js";
import { freePort, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { SessionClient } from "../helpers/ws-session.js";
import { postRun, stop, until200, warren } from "../e2e/processes.js";

let redis: TestRedis;
let env: NodeJS.ProcessEnv;
let port: number;
let base: string;
let api: ReturnType<typeof warren>;
let worker: ReturnType<typeof warren>;

const startApi = () => warren(["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], env);

beforeAll(async () => {
  redis = await startRedis();
  env = { REDIS_URL: redis.url, WARREN_QUEUE: `faults-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2", WARREN_LOCK_DURATION_MS: "5000", WARREN_STALLED_INTERVAL_MS: "2000" };
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  api = startApi();
  worker = warren(["worker"], env);
  await until200(`${base}/readyz`, () => `${api.log()}\n${worker.log()}`);
});

afterAll(async () => {
  if (worker !== undefined) await stop(worker.child);
  if (api !== undefined) await stop(api.child);
  await redis?.dispose();
});

async function finished(id: string, timeoutMs = 90_000): Promise<z.infer<typeof runResultSchema>> {
  return eventually(`run ${id} to finish`, async () => {
    const response = await fetch(`${base}/v1/runs/${id}`).catch(() => undefined);
    if (response?.status !== 200) return undefined;
    const result = runResultSchema.parse(await response.json());
    return result.status === "completed" || result.status === "failed" ? result : undefined;
  }, timeoutMs, 200);
}

/** How many times the worker says it finished run `id`. */
const finishedLines = (id: string) => worker.log().split("\n").filter((line) => line.includes(id) && line.includes("run finished")).length;

const sleeper = (tag: string, seconds: number) => ({ language: "python", files: [{ path: "main.py", content: `import time\ntime.sleep(${seconds})\nprint("${tag}")` }] });

describe("distributed faults", () => {
  it("Redis stopped and started while a job runs: the job completes once, its result is readable", async () => {
    const { status, body } = await postRun(base, sleeper("survived", 2));
    expect(status).toBe(202);
    const id = body.id as string;
    await eventually("the job to run", async () => ((await (await fetch(`${base}/v1/runs/${id}`)).json()) as { status: string }).status === "running" || undefined, 60_000, 50);
    await redis.stop();
    expect((await fetch(`${base}/v1/runs/${id}`)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the program ends while Redis is away
    await redis.start();
    const result = await finished(id);
    expect(result).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "survived\n" } });
    await eventually("the worker's log line", () => (finishedLines(id) >= 1 ? true : undefined), 10_000);
    expect(finishedLines(id)).toBe(1);
  }, 150_000);

  it("the API SIGKILLed and restarted with jobs in flight: every job completes once and is readable from the new API", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { status, body } = await postRun(base, sleeper(`job${i}`, 1));
      expect(status).toBe(202);
      ids.push(body.id as string);
    }
    api.child.kill("SIGKILL");
    await new Promise((resolve) => api.child.once("exit", resolve));
    api = startApi();
    await until200(`${base}/readyz`, api.log);
    for (const [i, id] of ids.entries()) {
      expect(await finished(id)).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: `job${i}\n` } });
    }
    for (const id of ids) await eventually(`the log line of ${id}`, () => (finishedLines(id) >= 1 ? true : undefined), 10_000);
    expect(ids.map(finishedLines)).toEqual(ids.map(() => 1));
  }, 150_000);

  it("a worker SIGKILLed mid-session: the worker that takes the job over fails it at once with a clear error to the client, and never runs it again", async () => {
    const client = await SessionClient.open(base);
    client.request({ language: "python", files: [{ path: "main.py", content: "import sys\nprint('ready', flush=True)\nfor line in sys.stdin: print('got', line.strip(), flush=True)" }], limits: { wallTimeMs: 60_000 } });
    const id = (await client.message("run")).id as string;
    await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
    client.stdin("one\n");
    await client.until("its first line read", () => (client.stdout() === "ready\ngot one\n" ? true : undefined));
    worker.child.kill("SIGKILL");
    await new Promise((resolve) => worker.child.once("exit", resolve));
    client.stdin("two\n"); // read by no one: the program that read "one" is gone with its worker
    worker = warren(["worker"], env);
    // its lock expires, the stalled job goes back to the queue, and the new worker takes it
    const result = runResultSchema.parse((await client.message("result")).result);
    expect(result).toMatchObject({ id, status: "failed", error: { code: "session_lost", message: "The worker running this session was lost; start a new session." } });
    expect(await client.closed).toMatchObject({ code: 1000 });
    expect(client.stdout()).toBe("ready\ngot one\n");
    expect(worker.log().split("\n").filter((line) => line.includes(id) && line.includes("run started"))).toEqual([]);
    expect((await finished(id)).status).toBe("failed");
  }, 150_000);
});
