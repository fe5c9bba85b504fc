import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { InvalidRequestError } from "../errors.js";
import type { LoggedEvent } from "../queue/run-events.js";
import type { SerializedResult } from "../run/result-json.js";
import { isFinal, RUN_STATUSES, type RunStatus } from "../run/result.js";
import { keyOwner } from "./auth.js";
import type { ApiDeps, AppEnv } from "./context.js";
import { NotFoundError } from "./errors.js";

/** Most bytes of events one read from the log hands to a connection: what a connection holds beside its socket's buffers. */
const BATCH_BYTES = 256 * 1024;
/** A comment line this often while nothing happens: proxies keep the connection, and a client that went away is noticed. */
const HEARTBEAT_MS = 15_000;
/** @see ApiOptions.eventStallMs */
const STALL_MS = 60_000;

const encoder = new TextEncoder();

/**
 * GET /v1/runs/:id/events: the run's events as Server-Sent Events
 * (docs/api-extensions.md, *Live output*), from after `Last-Event-ID` (the
 * header, or `?lastEventId=` for clients that cannot set it), ending with
 * the final RunResult. The stream reads the run's log only as fast as the
 * client takes it (the log is the buffer, bounded per run): a connection
 * holds one batch at most.
 */
export function runEvents(deps: ApiDeps): (c: Context<AppEnv>) => Promise<Response> {
  const { queue, options, metrics } = deps;
  return async (c) => {
    const id = c.req.param("id") as string;
    const after = lastEventId(c.req.header("last-event-id") ?? c.req.query("lastEventId"));
    const stored = await queue.getSerialized(id);
    // With API keys, another key's run is as unknown as one that never was.
    const foreign = stored?.owner !== undefined && options.apiKeys.length > 0 && stored.owner !== keyOwner(c.get("apiKey"));
    if (stored === undefined || foreign) throw new NotFoundError(`No run ${JSON.stringify(id)}: it never existed or its result expired.`);
    const stallMs = options.eventStallMs ?? STALL_MS;
    // A log does not grow after its final status: a client that had it already gets the result.
    const finishedBefore = isFinal(stored.status);
    let seen = after;
    let wake: (() => void) | undefined;
    let grew = true;
    let ended = false;
    let stall: NodeJS.Timeout | undefined;
    // Watched before the answer starts: a queue that does not answer is a 503, and no event slips between the watch and the first read.
    const unwatch = await queue.events.watch(id, () => {
      grew = true;
      wake?.();
    });
    const counter = metrics.eventStreamOpened();
    // Served by Node (not app.request): the connection itself, to cut it.
    const socket = (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket;
    const end = () => {
      if (ended) return;
      ended = true;
      wake?.();
      unwatch();
      counter.closed();
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          clearTimeout(stall);
          const send = (chunk: Uint8Array) => {
            controller.enqueue(chunk);
            counter.sent(chunk.byteLength);
          };
          try {
            const closing = await nextFrames(send);
            if (closing) {
              end();
              controller.close();
            }
            if ((controller.desiredSize ?? 0) <= 0) {
              // The client has not taken what waits (pull comes again once it has): it has `stallMs` before the connection is cut.
              stall = setTimeout(() => {
                end();
                // Destroyed, not ended: an ended answer would still wait in the socket for the client to read it.
                if (socket !== undefined) socket.destroy();
                else controller.error(new Error("the event stream's client took nothing for too long"));
              }, stallMs).unref();
            }
          } catch (error) {
            // Redis gone mid-stream: say so, and end; the client may come back with Last-Event-ID.
            send(frame("cut", JSON.stringify({ code: "unavailable", message: (error as Error).message })));
            end();
            controller.close();
          }
        },
        cancel: () => {
          clearTimeout(stall);
          end();
        },
      },
      { highWaterMark: BATCH_BYTES, size: (chunk) => chunk.byteLength },
    );

    /** Sends the next events (or a heartbeat); true when the stream is over. */
    const nextFrames = async (send: (chunk: Uint8Array) => void): Promise<boolean> => {
      while (!ended) {
        grew = false;
        const batch = await queue.events.read(id, seen, BATCH_BYTES);
        for (const event of batch.events) {
          send(frame(event.type, event.json, event.seq));
          seen = event.seq;
          if (finalStatus(event)) return sendResult(send);
        }
        if (batch.events.length > 0) return false;
        // No log (expired, or a finished run's evicted), or a finished run read to its end: the stored result says where the run is.
        if (batch.missing || finishedBefore) return sendResult(send);
        if (grew) continue;
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), HEARTBEAT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!woken && !grew) {
          send(encoder.encode(": heartbeat\n\n"));
          return false;
        }
      }
      return true;
    };

    /** The stream's last event: the run's result as stored (its JSON bytes as they are). */
    const sendResult = async (send: (chunk: Uint8Array) => void): Promise<boolean> => {
      const result: SerializedResult | undefined = await queue.getSerialized(id);
      if (result === undefined) {
        send(frame("cut", JSON.stringify({ code: "not_found", message: `Run ${id} expired.` })));
      } else if (!isFinal(result.status)) {
        send(frame("cut", JSON.stringify({ code: "events_gone", message: `Run ${id} has no event log any more; poll GET /v1/runs/${id}.` })));
      } else {
        // JSON.stringify writes no raw newline: the result is one `data:` line.
        send(encoder.encode("event: result\ndata: "));
        send(result.json as Uint8Array<ArrayBuffer>);
        send(encoder.encode("\n\n"));
      }
      return true;
    };

    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
    });
  };
}

function frame(type: string, json: string, seq?: number): Uint8Array {
  return encoder.encode(`${seq === undefined ? "" : `id: ${seq}\n`}event: ${type}\ndata: ${json}\n\n`);
}

function finalStatus(event: LoggedEvent): boolean {
  if (event.type !== "status") return false;
  const status = (JSON.parse(event.json) as { status?: unknown }).status;
  return RUN_STATUSES.includes(status as RunStatus) && isFinal(status as RunStatus);
}

/** The event number to resume after: Last-Event-ID as sent back by a client, a non-negative integer; none is 0. */
function lastEventId(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  if (!/^\d{1,15}$/.test(value)) {
    throw new InvalidRequestError(`Expected Last-Event-ID to be an event id this server sent (a non-negative integer), got ${JSON.stringify(value.slice(0, 40))}.`, [
      { path: ["Last-Event-ID"], message: "must be a non-negative integer" },
    ]);
  }
  return Number(value);
}
