import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { sandbox } from "../helpers/sandbox.js";
import { silent } from "./fixture.js";
import { describe, expect, it } from "vitest";
import { pistonContract, pistonKeysContract, pistonWaitContract } from "./piston.case.js";
import { testApp } from "./fixture.js";

// Embedded: the API and the worker in one process.
const embedded = {
  open: async () => {
    const config = queueConfig({ WARREN_CONCURRENCY: "2" });
    const queue = new MemoryQueue(config);
    return {
      api: queue,
      startWorker: async () => {
        const worker = startWorker(queue, await sandbox(), config, new Metrics(() => queue.depth()), silent);
        return () => worker.close(true);
      },
      inputsLeft: async () => queue.openSessionInputs,
    };
  },
};
pistonContract("embedded queue", embedded);
pistonKeysContract("embedded queue", embedded);
pistonWaitContract("embedded queue", embedded);

describe("WARREN_COMPAT without piston", () => {
  it("serves nothing at /piston, and the OpenAPI document lists none of it", async () => {
    const t = await testApp({}, { worker: false });
    try {
      const response = await t.app.request("/piston/api/v2/runtimes");
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
      const doc = (await (await t.app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).filter((path) => path.startsWith("/piston"))).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
