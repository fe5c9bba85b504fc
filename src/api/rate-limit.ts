import type { MiddlewareHandler } from "hono";
import { RateLimitedError } from "./errors.js";

/**
 * A token bucket per API key, per API instance: `perMinute` requests a
 * minute, in bursts of up to `perMinute`. 0 turns it off.
 */
export function rateLimit(perMinute: number, now: () => number = Date.now): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  if (!Number.isInteger(perMinute) || perMinute < 0) throw new RangeError(`Expected the rate limit to be a non-negative integer, got ${perMinute}.`);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return async (c, next) => {
    if (perMinute === 0) return next();
    const key = c.get("apiKey");
    const time = now();
    const bucket = buckets.get(key) ?? { tokens: perMinute, at: time };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (time - bucket.at) * perMs);
    bucket.at = time;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) throw new RateLimitedError(Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)), perMinute);
    bucket.tokens -= 1;
    return next();
  };
}
