import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { UnauthorizedError } from "./errors.js";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Who submitted a run, as kept with it: a digest of the API key, never the key. */
export function keyOwner(key: string): string {
  return digest(`warren-run-owner:${key}`).toString("hex");
}

/**
 * Checks a presented API key against `keys` (compared in constant time):
 * undefined when the server has no keys (every caller is "anonymous"), else
 * a function that throws UnauthorizedError unless GIVEN is one of them.
 */
export function keyCheck(keys: readonly string[]): ((given: string | undefined) => void) | undefined {
  const digests = keys.map(digest);
  if (digests.length === 0) return undefined;
  return (given) => {
    if (given === undefined) throw new UnauthorizedError("This server needs an API key: send `Authorization: Bearer <key>`.");
    const presented = digest(given);
    if (!digests.some((known) => timingSafeEqual(known, presented))) throw new UnauthorizedError("The API key is not valid on this server.");
  };
}

/** The key of an `Authorization: Bearer <key>` header; undefined when there is none of that shape. */
export function bearerKey(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

/** A request's header by its (lowercase) name. */
export type HeaderOf = (name: string) => string | undefined;

/**
 * The key KEY_OF finds in a request's headers against `keys` (keyCheck);
 * sets `apiKey` for the rate limiter. With no keys every caller is "anonymous".
 */
export function keyAuth(keys: readonly string[], keyOf: (header: HeaderOf) => string | undefined): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  const check = keyCheck(keys);
  return async (c, next) => {
    if (check === undefined) {
      c.set("apiKey", "anonymous");
      return next();
    }
    const key = keyOf((name) => c.req.header(name));
    check(key);
    c.set("apiKey", key as string);
    return next();
  };
}

/** `Authorization: Bearer <key>` against `keys` (keyAuth). */
export function bearerAuth(keys: readonly string[]): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  return keyAuth(keys, (header) => bearerKey(header("authorization")));
}
