import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
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
