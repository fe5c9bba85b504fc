import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { eventsContract } from "./run-events.case.js";

eventsContract("embedded queue", async (env) => new MemoryQueue(queueConfig({ WARREN_CONCURRENCY: "2", ...env })));
