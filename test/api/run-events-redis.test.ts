import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { readUntil } from "../helpers/sse.js";
import { post, python, testApp } from "./fixture.js";
import { eventsContract } from "./run-events.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

// Events go from the worker through Redis (streams, and one pub/sub channel) to the API, each queue with its own name.
eventsContract("BullMQ on Redis", (env) => BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `ev-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2", ...env })));

describe("event streams on Redis", () => {
  it("use no Redis connection per client: 20 clients watching a run add none", async () => {
    const queue = await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `ev-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "1" }));
    const t = await testApp({}, { queue });
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = new Redis(redis.url);
    const connections = async () => ((await admin.client("LIST")) as string).trim().split("\n").length;
    try {
      const submit = async () => ((await (await fetch(`${base}/v1/runs`, post(python("import time\nprint('up', flush=True)\ntime.sleep(50)", { limits: { wallTimeMs: 60_000 } })))).json()) as { id: string }).id;
      const id = await submit();
      // one client first, so that the queue's subscriber exists before counting
      const first = new AbortController();
      await readUntil(await fetch(`${base}/v1/runs/${id}/events`, { signal: first.signal }), "output");
      const before = await connections();
      const clients = Array.from({ length: 20 }, () => new AbortController());
      await Promise.all(
        clients.map(async (client) => {
          await readUntil(await fetch(`${base}/v1/runs/${id}/events`, { signal: client.signal }), "output");
        }),
      );
      expect(t.queue.events.watchers).toBe(21);
      expect(await connections()).toBe(before);
      for (const client of [first, ...clients]) client.abort();
      await fetch(`${base}/v1/runs/${id}`, { method: "DELETE" });
    } finally {
      admin.disconnect();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    }
  }, 60_000);
});
