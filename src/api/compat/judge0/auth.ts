import type { MiddlewareHandler } from "hono";
import { bearerKey, keyAuth } from "../../auth.js";

/**
 * Judge0's clients send their key as `X-Auth-Token` (and an authorization
 * token as `X-Auth-User`); Warren's send `Authorization: Bearer`. With
 * WARREN_API_KEYS set, any of them that holds a key is taken (the first
 * present, in that order); sets `apiKey` for the rate limiter.
 */
export function judge0Auth(keys: readonly string[]): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  return keyAuth(keys, (header) => header("x-auth-token") ?? header("x-auth-user") ?? bearerKey(header("authorization")));
}
