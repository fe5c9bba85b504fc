import type { IncomingMessage, ServerResponse } from "node:http";
import type { MiddlewareHandler } from "hono";

/** The most of a refused body that is read (and discarded) past what was read already. @defaultValue 64 MiB */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** …and no more than this many times WARREN_MAX_BODY_BYTES. */
export const DRAIN_LIMIT_FACTOR = 4;
/** …for no longer than this. */
export const DRAIN_MAX_MS = 10_000;

/** How much of an unread body `drainUnreadBody` reads before it gives up on the connection. */
export function drainBound(bodyLimitBytes: number): { readonly bytes: number; readonly ms: number } {
  return { bytes: Math.min(DRAIN_LIMIT_FACTOR * bodyLimitBytes, DRAIN_MAX_BYTES), ms: DRAIN_MAX_MS };
}

/**
 * When a request is answered before its body was read (413 past the limit,
 * 401, 429, 404, a 400 on the query…), reads and discards the rest of the
 * body before the answer is sent, up to a bound in bytes and time. A client
 * that writes its whole body before it reads (Python's urllib and requests,
 * most scripts) then gets the answer: were the connection closed with its
 * data unread, the kernel would reset it and the client would see a broken
 * pipe instead. Nothing is kept. Past the bound (or a declared length past
 * it) the answer is sent with `Connection: close` and the connection is cut,
 * so no client can hold one open or feed it for ever.
 */
export function drainUnreadBody(bodyLimitBytes: number): MiddlewareHandler {
  const bound = drainBound(bodyLimitBytes);
  return async (c, next) => {
    await next();
    const { incoming, outgoing } = (c.env ?? {}) as { incoming?: IncomingMessage; outgoing?: ServerResponse };
    // Outside a Node server (app.request) there is no connection; `complete`: the whole body has arrived.
    if (incoming === undefined || outgoing === undefined || incoming.complete || incoming.destroyed) return;
    const declared = Number(incoming.headers["content-length"] ?? Number.NaN);
    const fits = Number.isNaN(declared) || incoming.headers["transfer-encoding"] !== undefined || declared <= bound.bytes;
    if (fits && (await discardBody(incoming, bound)) === "ended") return;
    outgoing.setHeader("connection", "close");
    outgoing.once("finish", () => incoming.socket?.destroy());
  };
}

/** Reads `incoming` to its end, keeping nothing; stops at `bound.bytes` read or after `bound.ms`. */
export function discardBody(incoming: IncomingMessage, bound: { readonly bytes: number; readonly ms: number }): Promise<"ended" | "too_large" | "too_slow" | "aborted"> {
  return new Promise((resolve) => {
    let read = 0;
    const finish = (outcome: "ended" | "too_large" | "too_slow" | "aborted") => {
      clearTimeout(timer);
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("close", onClose);
      if (outcome !== "ended") incoming.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > bound.bytes) finish("too_large");
    };
    const onEnd = () => finish("ended");
    const onClose = () => finish(incoming.readableEnded ? "ended" : "aborted");
    const timer = setTimeout(() => finish("too_slow"), bound.ms);
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("close", onClose);
    incoming.resume();
  });
}
