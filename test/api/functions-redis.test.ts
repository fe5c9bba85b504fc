// Functions through BullMQ on a real Redis: versions and code in Redis, deploys and invocations as queue jobs.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { functionsContract } from "./functions.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

functionsContract("BullMQ on Redis", (env) => BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `fn-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2", ...env })));
