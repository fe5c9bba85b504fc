export { BullMqQueue } from "./bullmq-queue.js";
export { queueConfig, type QueueConfig } from "./config.js";
export { QueueUnavailableError } from "./errors.js";
export { MemoryQueue } from "./memory-queue.js";
export { openQueue } from "./open-queue.js";
export { callbackUrlOf, type JobQueue, type QueuedJob, type QueueHealth, type QueueWorker, type RunHandler, type WorkOptions } from "./types.js";
export { FunctionStoreError, type FunctionStore, type StoredVersion } from "./function-store.js";
export { waitForResult, waitForSerialized } from "./wait-for.js";
export { MemoryRateLimiter, RedisRateLimiter, type RateDecision, type RateLimiter } from "./rate-limiter.js";
