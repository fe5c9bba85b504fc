import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { waitForResult } from "../../src/queue/wait-for.js";
import type { RunResult } from "../../src/run/result.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { completed, newJob, queueContract } from "./queue.case.js";

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
});
