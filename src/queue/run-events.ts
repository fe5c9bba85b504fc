import type { JobEvent } from "../run/events.js";
import { WireEncoder, type WireEvent, type WireEventType } from "../run/event-wire.js";

/** One event of a run's event log: its number in the log (from 1, the SSE id), type and JSON data. */
export interface LoggedEvent {
  readonly seq: number;
  readonly type: WireEventType;
  readonly json: string;
}

export interface EventBatch {
  /** Events numbered above `after`, in order (at most what the read asked for). */
  readonly events: readonly LoggedEvent[];
  /** The run has no event log (never had one, expired, or evicted after it finished). */
  readonly missing: boolean;
}

/**
 * The API's side of the runs' event logs (GET /v1/runs/:id/events). Logs are
 * written by the worker (RunEventWriter) and by the queue (status changes);
 * each is kept as long as its run's result, within the per-run cap, and a
 * finished run's log may go sooner (the result store's byte cap).
 */
export interface RunEventLogs {
  /** Events of run `id` numbered above `after`, up to about `maxBytes` of their JSON (at least one event when there is one). */
  read(id: string, after: number, maxBytes: number): Promise<EventBatch>;
  /** Calls `wake` whenever run `id` may have new events; returns the unsubscribe function. */
  watch(id: string, wake: () => void): Promise<() => void>;
  /** Watches open now, all runs together (a client that went away must leave none behind). */
  readonly watchers: number;
}

/** Room in a run's event log for the events that are not output (stage starts and ends, verdicts, statuses). */
export const EVENT_ALLOWANCE_BYTES = 1024 * 1024;

/** How many bytes of output events one run's log holds: WARREN_RESULT_MAX_BYTES, the output one result keeps. */
export function eventLogCaps(resultMaxBytes: number): { readonly outputBytes: number; readonly totalBytes: number } {
  return { outputBytes: resultMaxBytes, totalBytes: resultMaxBytes + EVENT_ALLOWANCE_BYTES };
}

/**
 * The worker's side of one job's event log: encodes each JobEvent for the wire
 * and appends it within the run's cap: output events while the log holds less
 * than `outputBytes`, others while it holds less than `totalBytes`. What does
 * not fit is dropped and counted; a `dropped` event says so at the first drop
 * and, with the totals, when the job ends (close).
 */
export class RunEventWriter {
  readonly #encoder = new WireEncoder();
  readonly #append: (events: readonly WireEvent[]) => void;
  readonly #caps: { readonly outputBytes: number; readonly totalBytes: number };
  #bytes = 0;
  #droppedEvents = 0;
  #droppedOutputBytes = 0;
  #closed = false;

  constructor(caps: { readonly outputBytes: number; readonly totalBytes: number }, append: (events: readonly WireEvent[]) => void) {
    if (!(caps.outputBytes >= 0 && caps.totalBytes >= caps.outputBytes)) throw new RangeError(`Expected 0 <= outputBytes <= totalBytes, got ${caps.outputBytes} and ${caps.totalBytes}.`);
    this.#caps = caps;
    this.#append = append;
  }

  /** The sink for runJob's onEvent. Never throws. */
  readonly sink = (event: JobEvent): void => {
    if (this.#closed) return;
    const kept: WireEvent[] = [];
    for (const wire of this.#encoder.encode(event)) {
      const cap = wire.type === "output" ? this.#caps.outputBytes : this.#caps.totalBytes;
      if (this.#bytes + wire.json.length <= cap) {
        this.#bytes += wire.json.length;
        kept.push(wire);
        continue;
      }
      const first = this.#droppedEvents === 0;
      this.#droppedEvents += 1;
      if (wire.type === "output") this.#droppedOutputBytes += outputBytes(event);
      if (first) kept.push(this.#dropped());
    }
    if (kept.length > 0) this.#append(kept);
  };

  /** Ends the job's events: what was held back of a split character, and the totals of what was dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const last = this.#encoder.flush().filter((wire) => {
      if (this.#bytes + wire.json.length <= this.#caps.totalBytes) return (this.#bytes += wire.json.length), true;
      this.#droppedEvents += 1;
      return false;
    });
    if (this.#droppedEvents > 0) last.push(this.#dropped());
    if (last.length > 0) this.#append(last);
  }

  #dropped(): WireEvent {
    return { type: "dropped", json: JSON.stringify({ events: this.#droppedEvents, outputBytes: this.#droppedOutputBytes, limitBytes: this.#caps.outputBytes }) };
  }
}

function outputBytes(event: JobEvent): number {
  return event.type === "output" ? event.data.length : 0;
}
