import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as streamingBodyLimit } from "hono/body-limit";
import { InvalidRequestError } from "../errors.js";

/**
 * Refuses bodies over `maxSize` bytes (`onError` throws the answer). A body
 * whose size is declared (Content-Length, no Transfer-Encoding: Node's parser
 * then reads no more than that) is judged by the header alone; a chunked one
 * is counted as it streams in, from Node's request directly (readWithin) —
 * hono's bodyLimit would read it through a web stream that keeps whatever
 * arrives after the refusal, and @hono/node-server would build a web Request
 * on every request (~0.3 ms) — and only outside a Node server (app.request)
 * by hono's bodyLimit. What is left of a refused body is drained by
 * drainUnreadBody (body-drain.ts), so the client reads the 413.
 */
export function bodyLimit(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler {
  const streaming = streamingBodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number.parseInt(length, 10) > maxSize) return onError(c);
      return next();
    }
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming === undefined) return streaming(c, next);
    const body = await readWithin(incoming, maxSize);
    if (body === undefined) return onError(c);
    c.req.raw = new Request(c.req.raw, { body });
    return next();
  };
}

/** The body of `incoming` if it ends within `maxSize` bytes; undefined (the stream paused, nothing kept) as soon as it is past them. */
function readWithin(incoming: IncomingMessage, maxSize: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | undefined, body?: Buffer) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("close", onClose);
      if (error !== undefined) reject(error);
      else resolve(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxSize) {
        chunks.push(chunk);
        return;
      }
      incoming.pause();
      chunks.length = 0;
      finish(undefined);
    };
    const onEnd = () => finish(undefined, Buffer.concat(chunks, size));
    const onClose = () => {
      if (!incoming.readableEnded) finish(new InvalidRequestError("The request body ended early: the client closed the connection before sending all of it."));
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("close", onClose);
    incoming.resume();
  });
}
