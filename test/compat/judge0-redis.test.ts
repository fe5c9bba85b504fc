// Judge0 CE's API through BullMQ on a real Redis: submissions' records in Redis beside their results.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { judge0Contract } from "./judge0.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

judge0Contract("BullMQ on Redis", () => BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `j0-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2" })));
