import type { MiddlewareHandler } from "hono";
import { bearerKey, keyCheck } from "../../auth.js";

/**
 * Judge0's clients send their key as `X-Auth-Token` (and an authorization
 * token as `X-Auth-User`); Warren's send `Authorization: Bearer`. With
 * WARREN_API_KEYS set, any of them that holds a key is taken (the first
 * present, in that order); sets `apiKey` for the rate limiter.
 */
export function judge0Auth(keys: readonly string[]): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  const check = keyCheck(keys);
  return async (c, next) => {
    if (check === undefined) {
      c.set("apiKey", "anonymous");
      return next();
    }
    const key = c.req.header("x-auth-token") ?? c.req.header("x-auth-user") ?? bearerKey(c.req.header("authorization"));
    check(key);
    c.set("apiKey", key as string);
    return next();
  };
}
