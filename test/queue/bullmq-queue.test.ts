import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { enqueueWatched, waitForResult } from "../../src/queue/wait-for.js";
import { QueueUnavailableError } from "../../src/queue/errors.js";
import { APPEND, RedisEventAppender } from "../../src/queue/redis-events.js";
import { RedisResultStore } from "../../src/queue/redis-store.js";
import { serializeResult } from "../../src/run/result-json.js";
import { pendingResult } from "../../src/run/result.js";
import { RedisScript } from "../../src/queue/redis-script.js";
import type { RunResult } from "../../src/run/result.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { completed, newJob, queueContract } from "./queue.case.js";
import { eventually } from "../helpers/eventually.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

/** A queue with its own name, so tests never see each other's jobs. */
function open(env: NodeJS.ProcessEnv = {}): Promise<BullMqQueue> {
  return BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `t-${randomUUID().slice(0, 8)}`, WARREN_RETRY_BACKOFF_MS: "10", ...env }));
}

queueContract("BullMQ", (env) => open(env));

describe("BullMQ backend", () => {
  it("retries a job Warren failed, with backoff, and not a user's failure", async () => {
    const queue = await open();
    try {
      const calls = new Map<string, number>();
      const flaky = newJob("flaky");
      const userError = newJob("user");
      const worker = queue.work(
        async (job) => {
          const count = (calls.get(job.id) ?? 0) + 1;
          calls.set(job.id, count);
          if (job.id === flaky.id && count === 1) {
            return { ...completed(job), status: "failed", verdict: "internal_error", run: null, error: { code: "container_start_failed", message: "test" } } satisfies RunResult;
          }
          if (job.id === userError.id) return { ...completed(job), verdict: "runtime_error" } satisfies RunResult;
          return completed(job);
        },
        { concurrency: 1 },
      );
      await queue.enqueue(flaky, 100);
      await queue.enqueue(userError, 100);
      expect((await waitForResult(queue, flaky.id, 20_000))?.status).toBe("completed");
      expect((await waitForResult(queue, userError.id, 20_000))?.verdict).toBe("runtime_error");
      expect(calls.get(flaky.id)).toBe(2);
      expect(calls.get(userError.id)).toBe(1);
      await worker.close();
    } finally {
      await queue.close();
    }
  });

  it("stores `failed` after the last try", async () => {
    const queue = await open({ WARREN_JOB_ATTEMPTS: "2" });
    try {
      let calls = 0;
      const job = newJob();
      const worker = queue.work(
        async (running) => {
          calls += 1;
          return { ...completed(running), status: "failed", verdict: "internal_error", run: null, error: { code: "launcher_failed", message: "test" } } satisfies RunResult;
        },
        { concurrency: 1 },
      );
      await queue.enqueue(job, 100);
      expect(await waitForResult(queue, job.id, 20_000)).toMatchObject({ status: "failed", error: { code: "launcher_failed" } });
      expect(calls).toBe(2);
      await worker.close();
    } finally {
      await queue.close();
    }
  });

  it("counts final results' bytes beside them, and forgets the ones whose hash expired", async () => {
    const name = `t-${randomUUID().slice(0, 8)}`;
    const queue = await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: name, WARREN_RESULT_TTL_S: "1", WARREN_RESULT_STORE_BYTES: String(1024 * 1024) }));
    const client = new Redis(redis.url);
    try {
      const worker = queue.work(async (job) => completed(job, "y".repeat(300 * 1024)), { concurrency: 1 });
      const run = async () => {
        const job = newJob();
        await queue.enqueue(job, 100);
        expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
        return job.id;
      };
      const first = [await run(), await run()];
      const sizes = await Promise.all(first.map((id) => client.hstrlen(`${name}:run:${id}`, "result")));
      expect(sizes.every((size) => size > 300 * 1024)).toBe(true);
      expect(Number(await client.get(`${name}:results:total`))).toBe(sizes[0]! + sizes[1]!);
      expect(await client.zrange(`${name}:results`, 0, -1)).toEqual(first);
      // past the TTL the hashes are gone; the next store forgets them
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      expect(await client.exists(...first.map((id) => `${name}:run:${id}`))).toBe(0);
      const last = await run();
      expect(await client.zrange(`${name}:results`, 0, -1)).toEqual([last]);
      expect(Number(await client.get(`${name}:results:total`))).toBe(await client.hstrlen(`${name}:run:${last}`, "result"));
      expect(await client.hkeys(`${name}:results:bytes`)).toEqual([last]);
      await worker.close();
    } finally {
      client.disconnect();
      await queue.close();
    }
  });

  it("counts live workers by heartbeat", async () => {
    const queue = await open();
    try {
      expect(await queue.liveWorkers()).toBe(0);
      const worker = queue.work(async (job) => completed(job), { concurrency: 1 });
      const deadline = Date.now() + 10_000;
      while ((await queue.liveWorkers()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await queue.liveWorkers()).toBe(1);
      await worker.close();
      expect(await queue.liveWorkers()).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it("shares results between queue instances (API instances)", async () => {
    const name = `t-${randomUUID().slice(0, 8)}`;
    const a = await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: name }));
    const b = await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: name }));
    try {
      const job = newJob();
      await a.enqueue(job, 100);
      const worker = b.work(async (running) => completed(running), { concurrency: 1 });
      expect((await waitForResult(a, job.id, 20_000))?.status).toBe("completed");
      expect((await b.get(job.id))?.status).toBe("completed");
      await worker.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("appends a job's last events in the final result's script: in the stream before its final status, no append of their own", async () => {
    const queue = await open();
    const runs = vi.spyOn(RedisScript.prototype, "run");
    try {
      const job = newJob();
      const ref = { stage: "run" } as const;
      const worker = queue.work(
        async (running, _signal, _settle, events) => {
          // emitted in the turn the job ends in (a stage's end, just before the result): they go with the result
          events({ type: "stage_started", ref });
          events({ type: "output", ref, stream: "stdout", data: Buffer.from("one\n") });
          events({ type: "output", ref, stream: "stdout", data: Buffer.from("two\n") });
          return completed(running, "one\ntwo\n");
        },
        { concurrency: 1 },
      );
      await queue.enqueue(job, 100);
      expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
      const { events } = await queue.events.read(job.id, 0, 2 ** 20);
      expect(events.map((event) => `${event.seq} ${event.type} ${event.json}`)).toEqual([
        '1 status {"status":"queued"}',
        '2 status {"status":"running"}',
        '3 stage_started {"stage":"run"}',
        `4 output ${JSON.stringify({ stage: "run", stream: "stdout", encoding: "utf8", data: "one\n" })}`,
        `5 output ${JSON.stringify({ stage: "run", stream: "stdout", encoding: "utf8", data: "two\n" })}`,
        '6 status {"status":"completed"}',
      ]);
      expect(runs.mock.contexts.filter((script) => script === APPEND)).toHaveLength(0);
      await worker.close();
    } finally {
      runs.mockRestore();
      await queue.close();
    }
  });

  it("hands back at most one append's worth of a job's last events (1 MiB) for its final store; the rest is appended first", async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      const store = new RedisResultStore(client, `t-${randomUUID().slice(0, 8)}`, { ttlSeconds: 60, maxBytes: 2 ** 30 });
      const job = newJob();
      await store.create(serializeResult(pendingResult(job, "queued")));
      const appender = new RedisEventAppender(client, { run: store.key(job.id), events: store.eventsKey(job.id) }, { ttlSeconds: 60, channel: "c", id: job.id });
      const event = (n: number) => ({ type: "output" as const, json: JSON.stringify({ n, data: "x".repeat(600 * 1024) }) });
      appender.append([event(1), event(2), event(3)]);
      const rest = await appender.rest();
      expect(rest.map((wire) => JSON.parse(wire.json).n)).toEqual([3]);
      expect(await client.xlen(store.eventsKey(job.id))).toBe(3); // queued, 1, 2
      expect(await store.update(serializeResult(completed(job)), undefined, rest)).toBe(true);
      const entries = await client.xrange(store.eventsKey(job.id), "-", "+");
      expect(entries.map(([id, fields]) => `${id} ${fields[1]}`)).toEqual(["0-1 status", "0-2 output", "0-3 output", "0-4 output", "0-5 status"]);
      expect(Number(await client.hget(store.key(job.id), "eventBytes"))).toBe(3 * event(1).json.length);
    } finally {
      client.disconnect();
    }
  });

  describe("`running` stored while the handler starts", () => {
    /** Holds the worker's `running` update until `gate` resolves, then does what `then` says (default: stores it). */
    const holdRunning = (gate: Promise<unknown>, then?: () => Promise<boolean>) => {
      const update = RedisResultStore.prototype.update;
      return vi.spyOn(RedisResultStore.prototype, "update").mockImplementation(async function (this: RedisResultStore, result, ...rest) {
        if (result.status === "running") {
          await gate;
          if (then !== undefined) return then();
        }
        return update.call(this, result, ...rest);
      });
    };

    it("the handler starts before `running` is stored; its events and result wait for it, in order", async () => {
      const queue = await open();
      const order: string[] = [];
      const update = RedisResultStore.prototype.update;
      const spy = vi.spyOn(RedisResultStore.prototype, "update").mockImplementation(async function (this: RedisResultStore, result, ...rest) {
        if (result.status !== "running") return update.call(this, result, ...rest);
        order.push("running sent");
        const stored = await update.call(this, result, ...rest);
        order.push("running stored");
        return stored;
      });
      try {
        const job = newJob();
        const worker = queue.work(
          async (running, _signal, _settle, events) => {
            order.push("handler started");
            events({ type: "stage_started", ref: { stage: "run" } });
            return completed(running);
          },
          { concurrency: 1 },
        );
        await queue.enqueue(job, 100);
        expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
        expect(order).toEqual(["running sent", "handler started", "running stored"]);
        const { events } = await queue.events.read(job.id, 0, 2 ** 20);
        expect(events.map((event) => `${event.type} ${event.json}`)).toEqual(['status {"status":"queued"}', 'status {"status":"running"}', 'stage_started {"stage":"run"}', 'status {"status":"completed"}']);
        await worker.close();
      } finally {
        spy.mockRestore();
        await queue.close();
      }
    });

    it("a run found final by its `running` update (cancelled as it was taken) has a handler started meanwhile aborted, and is left as it is", async () => {
      const queue = await open();
      let checked = 0;
      const spy = holdRunning(Promise.resolve(), async () => {
        checked += 1;
        return false;
      });
      try {
        const job = newJob();
        const signals: AbortSignal[] = [];
        const worker = queue.work(
          async (running, signal) => {
            signals.push(signal);
            await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
            return completed(running);
          },
          { concurrency: 1 },
        );
        await queue.enqueue(job, 100);
        await eventually("the `running` update", () => (checked > 0 ? true : undefined));
        await worker.close(); // waits for the job
        expect(signals.every((signal) => signal.aborted)).toBe(true);
        expect((await queue.get(job.id))?.status).toBe("queued"); // what the (simulated) cancel left: nothing stored over it
      } finally {
        spy.mockRestore();
        await queue.close();
      }
    });

    it("a `running` update Redis refuses fails the try: the job is tried again", async () => {
      const queue = await open({ WARREN_JOB_ATTEMPTS: "2" });
      let refused = 0;
      const spy = holdRunning(Promise.resolve(), async () => {
        spy.mockRestore(); // once
        refused += 1;
        throw new Error("Redis did not answer");
      });
      try {
        const job = newJob();
        let calls = 0;
        const worker = queue.work(
          async (running) => {
            calls += 1;
            return completed(running);
          },
          { concurrency: 1 },
        );
        await queue.enqueue(job, 100);
        expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
        expect(refused).toBe(1);
        expect(calls).toBe(2);
        await worker.close();
      } finally {
        spy.mockRestore();
        await queue.close();
      }
    });
  });

  it("a watched enqueue with Redis down fails at once (503), not waiting for the subscriber it would have made first; it works once Redis is back", async () => {
    const queue = await open();
    try {
      await redis.stop();
      await expect(enqueueWatched(queue, newJob(), 100)).rejects.toBeInstanceOf(QueueUnavailableError);
      await redis.start();
      const worker = queue.work(async (running) => completed(running), { concurrency: 1 });
      const job = newJob();
      // the API's connection comes back in the background
      const watched = await eventually("an enqueue once Redis is back", () => enqueueWatched(queue, job, 100).catch(() => undefined));
      expect((await watched.watch.wait(20_000, watched.known))?.status).toBe("completed");
      watched.watch.close();
      await worker.close();
    } finally {
      await redis.start().catch(() => {});
      await queue.close();
    }
  });
});
