import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { sandbox } from "../helpers/sandbox.js";
import { silent } from "./fixture.js";
import { pistonContract, pistonKeysContract } from "./piston.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

// Distributed, as `serve --no-worker` and `warren worker`: the API's queue has no worker; another queue on the
// same Redis runs the jobs, and the results (and event logs, for `output`) come back through Redis.
const distributed = {
  open: async () => {
    const config = queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `pi-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2" });
    const api = await BullMqQueue.open(config);
    return {
      api,
      startWorker: async () => {
        const workers = await BullMqQueue.open(config);
        const worker = startWorker(workers, await sandbox(), config, new Metrics(() => workers.depth()), silent);
        return async () => {
          await worker.close(true);
          await workers.close();
        };
      },
      inputsLeft: async () => 0,
    };
  },
};
pistonContract("BullMQ on Redis, API and worker apart", distributed);
pistonKeysContract("BullMQ on Redis, API and worker apart", distributed);
