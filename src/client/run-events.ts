import { WarrenApiError, WarrenConnectionError, WarrenResponseError } from "./errors.js";
import { readSse, type SseFrame } from "./sse.js";
import type { Transport } from "./transport.js";
import type { RunEvent, RunResult } from "./types.js";

export interface EventsOptions {
  /** Start after this event (a `seq` seen before): the stream resumes there, as with Last-Event-ID. */
  readonly lastEventId?: number;
  /** Stops the stream (the iteration then throws the signal's reason). */
  readonly signal?: AbortSignal;
  /**
   * How many times in a row the client reconnects, with Last-Event-ID, when
   * the stream breaks or ends without its result (a lost connection, a
   * proxy's timeout, the server's `cut`, a 502/503/504) before it gives up.
   * Any event received starts the count again.
   * @defaultValue 5
   */
  readonly reconnects?: number;
}

const EVENT_TYPES = new Set(["status", "stage_started", "output", "stage_finished", "test_finished", "dropped"]);

/**
 * GET /v1/runs/:id/events as an async iterator of typed events, ending with
 * the `result` event. A broken stream is resumed after the last event seen
 * (Last-Event-ID), so no event is given twice and none is missed while the
 * run's log is kept. Event types this client does not know (a newer server)
 * are skipped. Leaving the loop early closes the connection.
 */
export async function* runEvents(transport: Transport, id: string, options: EventsOptions = {}): AsyncGenerator<RunEvent, void, undefined> {
  const limit = options.reconnects ?? 5;
  let last = options.lastEventId;
  let failures = 0;
  let why: unknown = "it ended without the run's result";
  for (;;) {
    options.signal?.throwIfAborted();
    // One per connection: leaving the loop (or the caller's signal) aborts it, and the server sees the client go.
    const connection = new AbortController();
    const abort = () => connection.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      const headers: Record<string, string> = { accept: "text/event-stream", ...(last === undefined ? {} : { "last-event-id": String(last) }) };
      const response = await transport.request("GET", `/v1/runs/${encodeURIComponent(id)}/events`, { headers, signal: connection.signal });
      if (response.body === null) throw new WarrenConnectionError(transport.base, new Error("the event stream has no body"));
      for await (const frame of readSse(response.body, transport.maxResponseBytes, transport.base)) {
        if (frame.event === "cut") {
          why = `the server cut it: ${frame.data}`;
          break;
        }
        const event = toRunEvent(frame, transport.base);
        if (event === undefined) continue;
        failures = 0;
        if (event.type !== "result") last = event.seq;
        yield event;
        if (event.type === "result") return;
      }
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      if (!retryable(error)) throw error;
      why = error;
    } finally {
      options.signal?.removeEventListener("abort", abort);
      connection.abort();
    }
    failures += 1;
    if (failures > limit) {
      const reason = why instanceof Error ? why.message : String(why);
      throw new WarrenConnectionError(transport.base, new Error(`the event stream of run ${id} broke ${failures} times in a row; last: ${reason}`));
    }
    await sleep(Math.min(250 * 2 ** (failures - 1), 5_000), options.signal);
  }
}

/** Follows a run's events to its final RunResult. */
export async function finalResult(transport: Transport, id: string, options: EventsOptions = {}): Promise<RunResult> {
  for await (const event of runEvents(transport, id, options)) if (event.type === "result") return event.result;
  throw new WarrenConnectionError(transport.base, new Error(`the event stream of run ${id} ended without its result`));
}

function toRunEvent(frame: SseFrame, base: string): RunEvent | undefined {
  if (frame.event !== "result" && !EVENT_TYPES.has(frame.event)) return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(frame.data) as Record<string, unknown>;
  } catch {
    throw new WarrenResponseError("invalid_response", base, `An event ${frame.event} from ${base} is not JSON: ${JSON.stringify(frame.data.slice(0, 200))}.`);
  }
  if (frame.event === "result") return { type: "result", result: data as RunResult };
  return { ...data, type: frame.event, seq: Number(frame.id) } as RunEvent;
}

/** A connection lost or refused, or a gateway's or a busy server's answer: worth another try. */
function retryable(error: unknown): boolean {
  if (error instanceof WarrenConnectionError) return true;
  return error instanceof WarrenApiError && (error.status === 502 || error.status === 503 || error.status === 504);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

