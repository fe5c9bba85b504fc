import type { Redis } from "ioredis";
import type { WireEvent, WireEventType } from "../run/event-wire.js";
import { orUnavailable } from "./errors.js";
import { RedisScript } from "./redis-script.js";
import type { EventBatch, LoggedEvent, RunEventLogs } from "./run-events.js";

/**
 * A run's event log: a Redis stream `<name>:events:<id>` (apart from the runs'
 * hashes, so that no run id names another key's type), entry ids `0-<seq>`,
 * fields `t` (type) and `d` (JSON).
 */
export const eventsKey = (name: string, id: string) => `${name}:events:${id}`;
/** Pub/sub channel: ids of runs whose event log has grown (the API instances read it then). */
export const eventsChannel = (name: string) => `${name}:events`;

/**
 * Lua that appends the events in ARGV from index FIRST on (type, then JSON)
 * to the run's stream STREAM, numbered from its hash HASH's `eventSeq`, and
 * counts their bytes in `eventBytes`: the one copy every script that appends
 * events uses (this one, and the final result's in redis-store.ts).
 */
export function appendEventsLua(hash: string, stream: string, first: number): string {
  return `local bytes = 0
for i = ${first}, #ARGV, 2 do
  local seq = redis.call('HINCRBY', ${hash}, 'eventSeq', 1)
  redis.call('XADD', ${stream}, '0-' .. seq, 't', ARGV[i], 'd', ARGV[i + 1])
  bytes = bytes + #ARGV[i + 1]
end
redis.call('HINCRBY', ${hash}, 'eventBytes', bytes)`;
}

/**
 * Appends events to a run's stream while its result is there and not final
 * (a cancelled run's worker may still be ending; an expired or evicted run
 * gets no orphan stream), numbering them from the hash's `eventSeq`, counting
 * their bytes in its `eventBytes` (the result store counts them with the
 * result, so finished runs' streams are within WARREN_RESULT_STORE_BYTES),
 * and announces the run's id. The bytes a run appends are capped by its
 * writer (RunEventWriter), so no MAXLEN: a count cannot bound bytes.
 *
 * KEYS[1] the run's hash, KEYS[2] its stream. ARGV: TTL seconds, channel,
 * run id, then type and JSON of each event.
 */
export const APPEND = new RedisScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'completed' or status == 'failed' or status == 'cancelled' then return 0 end
${appendEventsLua("KEYS[1]", "KEYS[2]", 4)}
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`);

/** Most bytes of events one append carries (a run's events wait in the worker while one is in flight). */
const APPEND_BATCH_BYTES = 1024 * 1024;
/** Entries one read asks for (then cut to the read's byte budget). */
const READ_COUNT = 64;

const EVENT_TYPES: ReadonlySet<string> = new Set<WireEventType>(["status", "stage_started", "output", "stage_finished", "test_finished", "dropped"]);

/**
 * One job's events on their way to Redis, from the worker: appended in order,
 * one append in flight at a time with everything that came meanwhile (and in
 * the same turn of the event loop). What waits is bounded by the job's cap
 * (RunEventWriter).
 */
export class RedisEventAppender {
  readonly #redis: Redis;
  readonly #keys: readonly [string, string];
  readonly #args: readonly (string | number)[];
  #waiting: WireEvent[] = [];
  /** The JSON bytes of #waiting. */
  #waitingBytes = 0;
  #flushing: Promise<void> | undefined;
  #after: Promise<unknown> | undefined;
  /** rest() waits: what is left once it fits in one batch goes with the final result, not in an append of its own. */
  #ending = false;

  /** `after`: what the first append waits for (the run's `running` status, written while the job starts). */
  constructor(redis: Redis, keys: { run: string; events: string }, options: { ttlSeconds: number; channel: string; id: string; after?: Promise<unknown> }) {
    this.#redis = redis;
    this.#keys = [keys.run, keys.events];
    this.#args = [options.ttlSeconds, options.channel, options.id];
    this.#after = options.after;
  }

  readonly append = (events: readonly WireEvent[]): void => {
    for (const event of events) this.#waitingBytes += event.json.length;
    this.#waiting.push(...events);
    this.#flushing ??= this.#flush();
  };

  /** Resolves when every event appended so far is in Redis (or was refused: the run was final). */
  async drained(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  /**
   * The job's last events, for its final store to append with the result in
   * one script (RedisResultStore.update): once the appends in flight are
   * done, what still waits — at most one append's worth (APPEND_BATCH_BYTES:
   * more is appended first) — is handed back instead of appended. Call it
   * when no more events come (the job's writer closed).
   */
  async rest(): Promise<WireEvent[]> {
    this.#ending = true;
    try {
      if (this.#waitingBytes > APPEND_BATCH_BYTES) this.#flushing ??= this.#flush();
      await this.drained();
    } finally {
      this.#ending = false;
    }
    const rest = this.#waiting;
    this.#waiting = [];
    this.#waitingBytes = 0;
    return rest;
  }

  /** Events rest() handed back that were not stored after all (the store failed): they wait again, first. */
  putBack(events: readonly WireEvent[]): void {
    for (const event of events) this.#waitingBytes += event.json.length;
    this.#waiting.unshift(...events);
  }

  async #flush(): Promise<void> {
    try {
      // What the job emits in the same turn goes in the same append; and a job's last events (a stage's end, emitted
      // just before its result) are still waiting when its final store comes, which takes them (rest).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#after !== undefined) {
        await this.#after.catch(() => {});
        this.#after = undefined;
      }
      while (this.#waiting.length > 0 && !(this.#ending && this.#waitingBytes <= APPEND_BATCH_BYTES)) {
        let bytes = 0;
        let count = 0;
        while (count < this.#waiting.length && (count === 0 || bytes + (this.#waiting[count] as WireEvent).json.length <= APPEND_BATCH_BYTES)) {
          bytes += (this.#waiting[count] as WireEvent).json.length;
          count++;
        }
        const batch = this.#waiting.splice(0, count);
        this.#waitingBytes -= bytes;
        // Live output is a convenience: a failed append loses those events, never the job.
        await APPEND.run(this.#redis, this.#keys, [...this.#args, ...batch.flatMap((event) => [event.type, event.json])]).catch(() => {});
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}

/**
 * The API's side: reads streams on the API's connection (XRANGE, never a
 * blocking read) and learns that a stream grew from one pub/sub channel on
 * the queue's one subscriber connection, whatever the number of clients.
 */
export class RedisEventLogs implements RunEventLogs {
  readonly #redis: Redis;
  readonly #eventsKey: (id: string) => string;
  readonly #channel: string;
  readonly #subscriber: () => Promise<Redis>;
  readonly #wakes = new Map<string, Set<() => void>>();
  #listening: Promise<void> | undefined;
  #watchers = 0;

  constructor(redis: Redis, eventsKey: (id: string) => string, channel: string, subscriber: () => Promise<Redis>) {
    this.#redis = redis;
    this.#eventsKey = eventsKey;
    this.#channel = channel;
    this.#subscriber = subscriber;
  }

  get watchers(): number {
    return this.#watchers;
  }

  async read(id: string, after: number, maxBytes: number): Promise<EventBatch> {
    const key = this.#eventsKey(id);
    const entries = await orUnavailable("read a run's events", () => this.#redis.xrange(key, `(0-${after}`, "+", "COUNT", READ_COUNT));
    if (entries.length === 0) {
      const exists = await orUnavailable("read a run's events", () => this.#redis.exists(key));
      return { events: [], missing: exists === 0 };
    }
    const events: LoggedEvent[] = [];
    let bytes = 0;
    for (const [entryId, fields] of entries) {
      const event = parseEntry(entryId, fields);
      if (event === undefined) continue;
      if (events.length > 0 && bytes + event.json.length > maxBytes) break;
      events.push(event);
      bytes += event.json.length;
    }
    return { events, missing: false };
  }

  async watch(id: string, wake: () => void): Promise<() => void> {
    await this.#listen();
    let wakes = this.#wakes.get(id);
    if (wakes === undefined) {
      wakes = new Set();
      this.#wakes.set(id, wakes);
    }
    const entry = () => wake();
    wakes.add(entry);
    this.#watchers += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#watchers -= 1;
      const current = this.#wakes.get(id);
      current?.delete(entry);
      if (current?.size === 0) this.#wakes.delete(id);
    };
  }

  #listen(): Promise<void> {
    this.#listening ??= (async () => {
      const subscriber = await this.#subscriber();
      subscriber.on("message", (channel: string, id: string) => {
        if (channel !== this.#channel) return;
        for (const wake of this.#wakes.get(id) ?? []) wake();
      });
      await subscriber.subscribe(this.#channel);
    })();
    // A failed subscription is tried again by the next watch.
    this.#listening.catch(() => (this.#listening = undefined));
    return this.#listening;
  }
}

/** A stream entry read back from Redis is data from outside the process: checked, not trusted. */
function parseEntry(entryId: string, fields: readonly string[]): LoggedEvent | undefined {
  const seq = /^0-(\d+)$/.exec(entryId)?.[1];
  const [typeField, type, dataField, json] = fields;
  if (seq === undefined || typeField !== "t" || dataField !== "d" || type === undefined || json === undefined || !EVENT_TYPES.has(type)) return undefined;
  return { seq: Number(seq), type: type as WireEventType, json };
}
