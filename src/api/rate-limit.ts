import type { MiddlewareHandler } from "hono";
import type { RateLimiter } from "../queue/index.js";
import { RateLimitedError } from "./errors.js";

/**
 * `perMinute` requests a minute per API key (0 turns it off), counted by
 * `limiter`: in Redis in distributed mode, so the limit holds across API
 * instances; in this process otherwise.
 */
export function rateLimit(perMinute: number, limiter: RateLimiter): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  if (!Number.isInteger(perMinute) || perMinute < 0) throw new RangeError(`Expected the rate limit to be a non-negative integer, got ${perMinute}.`);
  return async (c, next) => {
    if (perMinute === 0) return next();
    const decision = await limiter.take(c.get("apiKey"), perMinute);
    if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, perMinute);
    return next();
  };
}
