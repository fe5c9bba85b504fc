import { BullMqQueue } from "./bullmq-queue.js";
import type { QueueConfig } from "./config.js";
import { MemoryQueue } from "./memory-queue.js";
import type { JobQueue } from "./types.js";

/** BullMQ when REDIS_URL is set (distributed mode), else the embedded in-process queue. */
export async function openQueue(config: QueueConfig): Promise<JobQueue> {
  return config.redisUrl === undefined ? new MemoryQueue(config) : BullMqQueue.open(config);
}
