import type { WireEvent } from "../run/event-wire.js";
import type { EventBatch, LoggedEvent, RunEventLogs } from "./run-events.js";

export interface MemoryEventLimits {
  /** How long a log is kept after it was last written (WARREN_RESULT_TTL_S, as its result). */
  readonly ttlMs: number;
  /** Most logs kept (WARREN_RESULT_MAX). */
  readonly max: number;
  /** Most bytes of finished runs' logs kept, all together (WARREN_RESULT_STORE_BYTES); the oldest go first. */
  readonly maxBytes: number;
}

/** An event as kept: its JSON as bytes (a Buffer is outside the JS heap, as the results are). */
interface KeptEvent {
  readonly type: LoggedEvent["type"];
  readonly json: Buffer;
}

interface Log {
  readonly events: KeptEvent[];
  bytes: number;
  final: boolean;
  expiresAt: number;
  readonly wakes: Set<() => void>;
}

/**
 * Embedded mode's event logs. A running run's log is bounded by its writer
 * (RunEventWriter's cap) and only runs on this process's workers write, so
 * the live logs are bounded by the concurrency; a finished run's log is kept
 * like its result (TTL, count), within `maxBytes` for all finished logs, the
 * oldest going first. Events after a log's final status are refused: a
 * cancelled run's worker may still be ending.
 */
export class MemoryEventLogs implements RunEventLogs {
  /** Logs in write order of their creation (a Map keeps insertion order): the first finished one is the oldest. */
  readonly #logs = new Map<string, Log>();
  readonly #limits: MemoryEventLimits;
  #finalBytes = 0;
  #watchers = 0;

  constructor(limits: MemoryEventLimits) {
    this.#limits = limits;
  }

  get watchers(): number {
    return this.#watchers;
  }

  /** Appends `events` to run `id`'s log (made if it has none); `final` marks the run finished (its last status). */
  append(id: string, events: readonly WireEvent[], final = false): void {
    let log = this.#logs.get(id);
    if (log === undefined) {
      log = { events: [], bytes: 0, final: false, expiresAt: 0, wakes: new Set() };
      this.#logs.set(id, log);
    }
    if (log.final) return;
    for (const event of events) {
      const json = Buffer.from(event.json);
      log.events.push({ type: event.type, json });
      log.bytes += json.length;
    }
    log.expiresAt = Date.now() + this.#limits.ttlMs;
    if (final) {
      log.final = true;
      this.#finalBytes += log.bytes;
    }
    for (const wake of log.wakes) wake();
    this.#sweep(id);
  }

  async read(id: string, after: number, maxBytes: number): Promise<EventBatch> {
    const log = this.#logs.get(id);
    if (log === undefined || log.expiresAt <= Date.now()) return { events: [], missing: true };
    // seq n is at index n - 1
    const events: LoggedEvent[] = [];
    let bytes = 0;
    for (let index = Math.max(0, after); index < log.events.length; index++) {
      const event = log.events[index] as KeptEvent;
      if (events.length > 0 && bytes + event.json.length > maxBytes) break;
      events.push({ seq: index + 1, type: event.type, json: event.json.toString("utf8") });
      bytes += event.json.length;
    }
    return { events, missing: false };
  }

  async watch(id: string, wake: () => void): Promise<() => void> {
    // A watch on a run with no log yet (or any more) waits on a log of its own,
    // so that no append slips by; it goes with the last watch if still empty.
    let log = this.#logs.get(id);
    if (log === undefined) {
      log = { events: [], bytes: 0, final: false, expiresAt: Date.now() + this.#limits.ttlMs, wakes: new Set() };
      this.#logs.set(id, log);
    }
    const watched = log;
    const entry = () => wake();
    watched.wakes.add(entry);
    this.#watchers += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      watched.wakes.delete(entry);
      this.#watchers -= 1;
      if (watched.wakes.size === 0 && watched.events.length === 0 && this.#logs.get(id) === watched) this.#logs.delete(id);
    };
  }

  #sweep(keep: string): void {
    const now = Date.now();
    for (const [id, log] of this.#logs) {
      if (id === keep) continue;
      const overCount = this.#logs.size > this.#limits.max;
      const overBytes = this.#finalBytes > this.#limits.maxBytes;
      const expired = log.expiresAt <= now && log.wakes.size === 0;
      if (!expired && !(log.final && (overCount || overBytes))) {
        if (!overCount && !overBytes) break;
        continue;
      }
      this.#remove(id, log);
    }
  }

  #remove(id: string, log: Log): void {
    this.#logs.delete(id);
    if (log.final) this.#finalBytes -= log.bytes;
    // A watcher of an evicted log is woken: its next read finds the log missing and ends with the result.
    for (const wake of log.wakes) wake();
  }
}
