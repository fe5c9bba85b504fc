import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { sandbox } from "../helpers/sandbox.js";
import { silent } from "./fixture.js";
import { pistonContract } from "./piston.case.js";

// Embedded: the API and the worker in one process.
pistonContract("embedded queue", {
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
});
