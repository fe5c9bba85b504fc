import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { sandbox } from "../helpers/sandbox.js";
import { silent } from "./fixture.js";
import { sessionsContract } from "./sessions.case.js";

let redis: TestRedis;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.dispose();
});

// Distributed, as `serve --no-worker` and `warren worker`: the API's queue has no worker; another queue on the
// same Redis runs the jobs, so stdin crosses Redis (a stream per session) and output comes back in the event log.
sessionsContract("BullMQ on Redis, API and worker apart", {
  open: async () => {
    const config = queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `se-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2" });
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
      inputsLeft: async () => (await client.keys(`${config.name}:stdin*`)).length,
      connections: async () => ((await client.client("LIST")) as string).trim().split("\n").length,
      stdinEntries: async (id: string) => ((await client.exists(`${config.name}:stdin:${id}`)) === 1 ? client.xlen(`${config.name}:stdin:${id}`) : -1),
    };
  },
});
