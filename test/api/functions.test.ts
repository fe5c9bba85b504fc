// Functions through the embedded queue: deploy, read, invoke, delete (docs/api-extensions.md, *Functions*).
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { functionsContract } from "./functions.case.js";

functionsContract("embedded", async (env) => new MemoryQueue(queueConfig({ WARREN_CONCURRENCY: "2", ...env })));
