import { Redis, type RedisOptions } from "ioredis";
import { QueueUnavailableError } from "./errors.js";

/** How long `open` waits for Redis before giving up. */
const READY_TIMEOUT_MS = 10_000;

/**
 * A connection for the API side: commands fail at once while Redis is down
 * (no offline queue), so the API answers 503 instead of hanging; ioredis
 * keeps reconnecting in the background.
 */
export function apiConnection(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnectDelay, lazyConnect: true });
}

/** A connection for BullMQ workers and subscribers: waits out an outage (BullMQ requires maxRetriesPerRequest null). */
export function workerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: reconnectDelay, ...options });
}

function reconnectDelay(times: number): number {
  return Math.min(100 * times, 2_000);
}

/** Connects `redis`, throwing QueueUnavailableError with the URL when it does not answer in time. */
export async function connect(redis: Redis, url: string): Promise<void> {
  if (redis.status === "ready") return;
  const timer = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref();
  });
  const ready = redis.status === "wait" ? redis.connect() : new Promise<void>((resolve) => redis.once("ready", () => resolve()));
  try {
    await Promise.race([ready, timer]);
  } catch (error) {
    redis.disconnect();
    throw new QueueUnavailableError(`Cannot connect to Redis at ${redactUrl(url)}: ${(error as Error).message}. Is redis-server running, and is REDIS_URL right?`, error);
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable REDIS_URL)";
  }
}
