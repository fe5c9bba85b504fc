import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { UnauthorizedError } from "./errors.js";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Who submitted a run, as kept with it: a digest of the API key, never the key. */
export function keyOwner(key: string): string {
  return digest(`warren-run-owner:${key}`).toString("hex");
}

/**
 * `Authorization: Bearer <key>` against `keys` (compared in constant time);
 * sets `apiKey` for the rate limiter. With no keys every caller is "anonymous".
 */
export function bearerAuth(keys: readonly string[]): MiddlewareHandler<{ Variables: { apiKey: string } }> {
  const digests = keys.map(digest);
  return async (c, next) => {
    if (digests.length === 0) {
      c.set("apiKey", "anonymous");
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new UnauthorizedError("This server needs an API key: send `Authorization: Bearer <key>`.");
    const given = digest(match[1] as string);
    if (!digests.some((known) => timingSafeEqual(known, given))) throw new UnauthorizedError("The API key is not valid on this server.");
    c.set("apiKey", match[1] as string);
    return next();
  };
}
