// Warm routing in distributed mode (docs/functions.md, *Distributed: warm routing*): with two workers on one
// Redis, an invocation goes to the worker holding a prepared container of its version; invocations routed to a
// worker that is gone (its advert lapsed, holding a waiting or a running job) are still answered by another.
// Real Redis, real sandboxes, the real API.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import type { BullMqWorker } from "../../src/queue/bullmq-worker.js";
import { queueConfig } from "../../src/queue/config.js";
import { advertKey, ownQueueName, routedKey, routeKey, warmField } from "../../src/queue/warm-routes.js";
import { PreparedBudget } from "../../src/sandbox/container/prepared-budget.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { createFunctionRuntime, type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { silent, testApp, type TestApp } from "../api/fixture.js";
import { eventually } from "../helpers/eventually.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";

const LIMITS = { wallTimeMs: 10_000 * TIME_SCALE, cpuTimeMs: 5_000 * TIME_SCALE };
const pythonFn = (code: string) => ({ language: "python", handler: "main.handler", files: [{ path: "main.py", content: code }], limits: LIMITS });

interface TestWorker {
  readonly id: string;
  readonly runtime: SandboxFunctionRuntime;
  readonly closed: boolean;
  close(force?: boolean): Promise<void>;
}

let redis: TestRedis;
let name: string;
let env: Record<string, string>;
let api: TestApp;
let server: Server;
let base: string;
let client: Redis;
const workers: TestWorker[] = [];

/** A worker as `warren worker` makes one: its own connections to Redis, its own function runtime. */
async function startTestWorker(extra: Record<string, string> = {}): Promise<TestWorker> {
  const config = queueConfig({ ...env, ...extra });
  const queue = await BullMqQueue.open(config);
  // prepared containers (a Python version's zygotes are advertised the same way: zygote.test.ts checks warmVersions)
  const runtime = createFunctionRuntime(await sandbox(), { budget: new PreparedBudget(4), maxZygotesPerVersion: 0 });
  const worker = startWorker(queue, await sandbox(), config, new Metrics(), silent, undefined, runtime) as BullMqWorker;
  let closed: Promise<void> | undefined;
  const made = {
    id: worker.id,
    runtime,
    get closed() {
      return closed !== undefined;
    },
    close: (force = false) =>
      (closed ??= (async () => {
        await worker.close(force);
        await runtime.close();
        await queue.close();
      })()),
  };
  workers.push(made);
  return made;
}

beforeAll(async () => {
  redis = await startRedis();
  name = `route-${randomUUID().slice(0, 8)}`;
  env = { REDIS_URL: redis.url, WARREN_QUEUE: name, WARREN_CONCURRENCY: "2", WARREN_LOCK_DURATION_MS: "1000" };
  client = new Redis(redis.url);
  // The API alone (serve --no-worker): the workers below are apart from it, each with its own connections.
  api = await testApp({}, { queue: await BullMqQueue.open(queueConfig(env)), worker: false });
  server = serve({ fetch: api.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  for (const worker of workers) await worker.close(true);
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  await api?.close();
  client?.disconnect();
  await redis?.dispose();
}, 60_000);

const deploy = async (fn: string, body: unknown) => {
  const response = await fetch(`${base}/v1/functions/${fn}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(201);
};
const invoke = (fn: string, query = "") => fetch(`${base}/v1/functions/${fn}/invoke${query}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });

/** Polls GET /v1/invocations/:id until it is final. */
const final = (id: string) =>
  eventually(
    `invocation ${id} to finish`,
    async () => {
      const view = (await (await fetch(`${base}/v1/invocations/${id}`)).json()) as { status: string };
      return view.status === "queued" || view.status === "running" ? undefined : view;
    },
    60_000,
    50,
  );

/** Waits until WORKER advertises a prepared container of version 1 of FN not claimed by an invocation. */
const advertised = (worker: TestWorker, fn: string) =>
  eventually(`${worker.id} to advertise ${fn}`, async () => {
    const [ready, claimed] = await client.hmget(advertKey(name, worker.id), warmField(fn, 1), `c:${warmField(fn, 1)}`);
    return Number(ready ?? 0) - Number(claimed ?? 0) > 0 ? true : undefined;
  });

/** Makes a worker that is gone in all but its advert: ready=1 for FN's version 1, lapsing after TTL_MS. */
async function ghost(fn: string, ttlMs: number): Promise<string> {
  const id = `ghost-${randomUUID().slice(0, 8)}`;
  await client.multi().hset(advertKey(name, id), "alive", "1", warmField(fn, 1), "1").pexpire(advertKey(name, id), ttlMs).sadd(routedKey(name), id).exec();
  return id;
}

describe("warm routing (two workers, real Redis)", () => {
  it("sends a version's invocations to the worker holding its prepared containers (B), answered warm there; B's advert goes with it", async () => {
    const b = await startTestWorker();
    const fn = `warm-${randomUUID().slice(0, 8)}`;
    await deploy(fn, pythonFn("def handler(event, context):\n    return {'ok': True}\n"));
    const first = await invoke(fn); // B is the only worker: it runs cold there, and prepares one behind it
    expect(first.status).toBe(200);
    expect(first.headers.get("x-warren-worker")).toBe(b.id);
    // B's slots for the shared queue are taken (two sleeping runs, submitted while B is the only worker), so
    // that only routing can send fn's invocations to B: through the shared queue they would all go to A.
    const sleepers: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const run = await fetch(`${base}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language: "python", files: [{ path: "main.py", content: "import time\ntime.sleep(60)" }], limits: { wallTimeMs: 60_000 } }) });
      sleepers.push(((await run.json()) as { id: string }).id);
    }
    for (const id of sleepers) await eventually(`run ${id} to start on B`, async () => (((await (await fetch(`${base}/v1/runs/${id}`)).json()) as { status: string }).status === "running" ? true : undefined));
    const a = await startTestWorker(); // A is idle, free, and cold for fn
    for (let i = 0; i < 4; i += 1) {
      await advertised(b, fn);
      const response = await invoke(fn);
      expect(response.status).toBe(200);
      expect({ worker: response.headers.get("x-warren-worker"), cold: response.headers.get("x-warren-cold") }).toEqual({ worker: b.id, cold: "false" });
    }
    for (const id of sleepers) await fetch(`${base}/v1/runs/${id}`, { method: "DELETE" });
    expect(a.runtime.warm).toBe(0);
    await b.close();
    expect(await client.exists(advertKey(name, b.id))).toBe(0);
    expect(await client.sismember(routedKey(name), b.id)).toBe(0); // its own queue, empty, was deleted as it closed
    // With B gone the invocations go to A (through the shared queue).
    const after = await invoke(fn);
    expect(after.status).toBe(200);
    expect(after.headers.get("x-warren-worker")).toBe(a.id);
  }, 120_000);

  it("a worker that closes runs what it holds and hands what waits on its own queue to the others", async () => {
    for (const worker of workers) await worker.close();
    const b = await startTestWorker({ WARREN_CONCURRENCY: "1" }); // one slot of its own: a second routed invocation waits there
    const fn = `close-${randomUUID().slice(0, 8)}`;
    await deploy(fn, pythonFn("import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'done'\n"));
    // Warm fn on B alone: make it B's by invoking it until B holds three prepared containers (A has none). A
    // container taken is replaced only once its invocation is answered and its claim holds until then, so the
    // slow invocation below leaves B advertising one free container for the next as long as it runs.
    await eventually("B to hold three prepared containers of fn", async () => {
      if (b.runtime.warm >= 3) return true;
      await Promise.all([invoke(fn), invoke(fn), invoke(fn)]);
      return undefined;
    }, 60_000, 200);
    await eventually("B's advert to show them", async () => (Number((await client.hget(advertKey(name, b.id), warmField(fn, 1))) ?? 0) >= 3 ? true : undefined));
    await startTestWorker(); // A, cold for fn
    const slow = fetch(`${base}/v1/functions/${fn}/invoke`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sleep: 4 }) });
    await eventually("the slow invocation to run on B", () => (b.runtime.warm < 3 ? true : undefined));
    const queued = (await (await invoke(fn, "?async=true")).json()) as { id: string };
    expect(await client.get(routeKey(name, queued.id))).toBe(b.id); // claimed on B, waiting behind the slow one
    await b.close();
    const slowAnswer = await slow;
    expect(slowAnswer.status).toBe(200);
    expect(slowAnswer.headers.get("x-warren-worker")).toBe(b.id);
    const view = (await final(queued.id)) as { status: string; worker?: string };
    expect(view.status).toBe("ok");
    expect(view.worker).not.toBe(b.id);
  }, 120_000);

  it("answers an invocation routed to a worker that died before taking it: its queue is rescued to the shared queue", async () => {
    if (workers.every((worker) => worker.closed)) await startTestWorker(); // a live worker (A, unless the test before failed early)
    const fn = `lost-${randomUUID().slice(0, 8)}`;
    await deploy(fn, pythonFn("def handler(event, context):\n    return 7\n"));
    const dead = await ghost(fn, 1_000);
    const queued = await invoke(fn, "?async=true");
    expect(queued.status).toBe(202);
    const { id } = (await queued.json()) as { id: string };
    expect(await client.get(routeKey(name, id))).toBe(dead); // it was sent to the dead worker's own queue
    const view = (await final(id)) as { status: string; body: string };
    expect(view).toMatchObject({ status: "ok" });
    expect(Buffer.from(view.body, "base64").toString()).toBe("7");
    await eventually("the dead worker to be forgotten", async () => ((await client.sismember(routedKey(name), dead)) === 0 ? true : undefined));
  }, 120_000);

  it("answers an invocation a worker took and then died running (its lock expired): it is run again by another", async () => {
    const fn = `killed-${randomUUID().slice(0, 8)}`;
    await deploy(fn, pythonFn("def handler(event, context):\n    return 'again'\n"));
    const dead = await ghost(fn, 2_000);
    // The dead worker's last act: it took the job (active, locked for WARREN_LOCK_DURATION_MS) and never finished it.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    let took: () => void = () => {};
    const taken = new Promise<void>((resolve) => (took = resolve));
    const zombie = new Worker(
      ownQueueName(name, dead),
      async () => {
        took();
        await new Promise(() => {}); // never answers
      },
      { connection, lockDuration: 1_000 },
    );
    zombie.on("error", () => {});
    // Killed once it holds the job: no clean-up, its lock is no longer renewed.
    const killed = taken.then(async () => {
      await zombie.close(true).catch(() => {});
      connection.disconnect();
    });
    const queued = await invoke(fn, "?async=true");
    const { id } = (await queued.json()) as { id: string };
    await killed;
    const view = (await final(id)) as { status: string; body: string; worker?: string };
    expect(view.status).toBe("ok");
    expect(view.worker).not.toBe(dead);
    expect(Buffer.from(view.body, "base64").toString()).toBe('"again"');
  }, 120_000);

  it("cancels an invocation waiting on a worker's own queue: it is removed there", async () => {
    const fn = `cancel-${randomUUID().slice(0, 8)}`;
    await deploy(fn, pythonFn("def handler(event, context):\n    return 1\n"));
    const dead = await ghost(fn, 60_000); // does not lapse during the test: the job stays on its queue until cancelled
    const queued = await invoke(fn, "?async=true");
    const { id } = (await queued.json()) as { id: string };
    const own = new Queue(ownQueueName(name, dead), { connection: client });
    expect(await own.getJob(id)).toBeDefined();
    const cancelled = await fetch(`${base}/v1/runs/${id}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(await own.getJob(id)).toBeUndefined();
    expect(((await (await fetch(`${base}/v1/invocations/${id}`)).json()) as { status: string }).status).toBe("cancelled");
    await own.close();
    await client.del(advertKey(name, dead));
  }, 60_000);
});
