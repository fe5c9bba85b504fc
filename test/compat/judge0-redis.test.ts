// Judge0 CE's API through BullMQ on a real Redis: submissions' records in Redis beside their results.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { testApp } from "../api/fixture.js";
import { judge0Contract } from "./judge0.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

judge0Contract("BullMQ on Redis", () => BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `j0-${randomUUID().slice(0, 8)}`, WARREN_CONCURRENCY: "2" })));

describe("Judge0 CE API on Redis, several API instances", () => {
  it("a submission taken by one API instance is read, listed and deleted through another", async () => {
    const name = `j0-${randomUUID().slice(0, 8)}`;
    const open = () => BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: name, WARREN_CONCURRENCY: "1" }));
    const taker = await testApp({ compat: ["judge0"] }, { queue: await open() });
    const reader = await testApp({ compat: ["judge0"] }, { queue: await open(), worker: false });
    try {
      const created = await taker.app.request("/judge0/submissions?wait=true", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ language_id: 71, source_code: "print('shared')", expected_output: "shared" }),
      });
      const { token } = (await created.json()) as { token: string };
      const read = (await (await reader.app.request(`/judge0/submissions/${token}?fields=stdout,status_id,source_code`)).json()) as Record<string, unknown>;
      expect(read).toEqual({ source_code: "print('shared')", stdout: "shared\n", status_id: 3 });
      const listed = (await (await reader.app.request("/judge0/submissions?fields=token")).json()) as { submissions: { token: string }[] };
      expect(listed.submissions).toEqual([{ token }]);
      expect((await reader.app.request(`/judge0/submissions/${token}`, { method: "DELETE" })).status).toBe(200);
      expect((await taker.app.request(`/judge0/submissions/${token}`)).status).toBe(404);
    } finally {
      await reader.close();
      await taker.close();
    }
  });
});
