import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as streamingBodyLimit } from "hono/body-limit";

/**
 * Refuses bodies over `maxSize` bytes (`onError` throws the answer). A body
 * whose size is declared (Content-Length, no Transfer-Encoding: Node's parser
 * then reads no more than that) is judged by the header alone; only a chunked
 * one is counted as it streams in (hono's bodyLimit). hono's bodyLimit alone
 * would make @hono/node-server build a web Request and read the body through a
 * web stream on every request (~0.3 ms); this way `c.req.json()` reads it from
 * Node's request directly.
 */
export function bodyLimit(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler {
  const streaming = streamingBodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streaming(c, next);
    if (Number.parseInt(length, 10) > maxSize) return onError(c);
    await next();
  };
}
