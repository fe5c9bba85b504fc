import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueContract } from "./queue.case.js";

queueContract("in-process", async () => new MemoryQueue(queueConfig({})));
