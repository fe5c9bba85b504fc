import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script.js";
import { orUnavailable } from "./errors.js";

/** One request's answer: let it through, or refuse it for `retryAfterSeconds`. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly retryAfterSeconds: number;
}

/** Counts requests per API key against a per-minute limit. */
export interface RateLimiter {
  take(key: string, perMinute: number): Promise<RateDecision>;
}

/**
 * A token bucket per key in this process: `perMinute` requests a minute, in
 * bursts of up to `perMinute`. Right for one API instance (the embedded mode).
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async take(key: string, perMinute: number): Promise<RateDecision> {
    const perMs = perMinute / 60_000;
    const time = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: perMinute, at: time };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (time - bucket.at) * perMs);
    bucket.at = time;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
    bucket.tokens -= 1;
    return { allowed: true, retryAfterSeconds: 0 };
  }
}

/** KEYS[1] the window's counter; ARGV[1] its TTL in seconds. One command, not a MULTI: it is on every request's path. */
const COUNT_REQUEST = new RedisScript(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return count`);

/**
 * A fixed one-minute window per key in Redis, shared by every API instance of
 * the distributed mode: a key gets `perMinute` requests a minute however many
 * instances its requests land on. Keys are stored hashed, never in clear.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(redis: Redis, prefix: string, now: () => number = Date.now) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#now = now;
  }

  async take(key: string, perMinute: number): Promise<RateDecision> {
    const time = this.#now();
    const minute = Math.floor(time / 60_000);
    const id = createHash("sha256").update(key).digest("hex").slice(0, 32);
    const counter = `${this.#prefix}:rate:${id}:${minute}`;
    const count = Number(await orUnavailable("count a request", () => COUNT_REQUEST.run(this.#redis, [counter], [61])));
    if (count <= perMinute) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * 60_000 - time) / 1000)) };
  }
}
