import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script.js";
import { orUnavailable } from "./errors.js";
import type { RunEventLogs } from "./run-events.js";
import { workerConnection } from "./redis-connection.js";
import { InvalidRequestError } from "../errors.js";
import { isSessionSignal, type SessionSignal } from "../run/signals.js";
import { SIGNALS_WAITING_MAX, STDIN_WINDOW_BYTES, stdinCharge, tooManySignals, type SessionInputReader, type SessionInputWriter } from "./session-input.js";

/**
 * A session's stdin: a Redis stream `<name>:stdin:<id>`, apart from the runs'
 * hashes (as the event logs are: no run id can name it); entries `d` (bytes),
 * `e` (end of input) or `s` (a signal's name). Signals travel in the stream,
 * in order with the bytes, but are not held back by them: the worker reads
 * the stream ahead of its program (at most a window of bytes is there to
 * read: the API waits beyond it) and passes each signal on as it reads it.
 */
export const stdinKey = (name: string, id: string) => `${name}:stdin:${id}`;
/** How many of its bytes the program has taken (INCRBY by the worker, each chunk at its stdinCharge()), or `drained` once it ended. */
export const stdinTakenKey = (name: string, id: string) => `${name}:stdin-taken:${id}`;
const DRAINED = "drained";

/**
 * The worker's counts, kept only while the session's stream is there: once
 * the API has let the session go (DEL), nothing of it is made again.
 * KEYS[1] the stream, KEYS[2] the taken count. ARGV: bytes taken (or
 * `drained`: the program ended, and the stream goes), TTL seconds, channel, run id.
 */
const COUNT_TAKEN = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '${DRAINED}' then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
  redis.call('DEL', KEYS[1])
else
  redis.call('INCRBY', KEYS[2], tonumber(ARGV[1]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`);

/**
 * A signal's XADD, unless the stream holds a full window's entries (each
 * chunk counts at least 512 bytes: stdinCharge) and SIGNALS_WAITING_MAX
 * more: 1 when added, 0 when refused. KEYS[1] the stream; ARGV: the signal,
 * the most entries, TTL seconds.
 */
const ADD_SIGNAL = new RedisScript(`
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('XADD', KEYS[1], '*', 's', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`);
const STREAM_ENTRIES_MAX = Math.ceil(STDIN_WINDOW_BYTES / stdinCharge(0)) + 1 + SIGNALS_WAITING_MAX;

/** Entries one XREAD takes. */
const READ_COUNT = 64;
/** How long one XREAD blocks before the reader looks whether it was closed. */
const BLOCK_MS = 5_000;
/** While the window is full, how often the writer reads the count even without a wake (a lost publish costs this much). */
const RECHECK_MS = 1_000;

export interface RedisSessionInputOptions {
  /** The queue's name (WARREN_QUEUE): the prefix of the session's keys. */
  readonly name: string;
  readonly id: string;
  /** How long the session's keys live when no one deletes them (a process that died): WARREN_RESULT_TTL_S. */
  readonly ttlSeconds: number;
  /** The events channel (redis-events.ts): a worker that took bytes announces the run's id on it, as for new events. */
  readonly channel: string;
}

/**
 * The API's side of a session's stdin in distributed mode: XADD to the
 * session's stream, then, while STDIN_WINDOW_BYTES or more wait for the
 * program, wait for the worker's count of taken bytes to grow (woken by the
 * events channel of the run: `events.watch`).
 */
export function redisSessionWriter(redis: Redis, events: RunEventLogs, options: RedisSessionInputOptions): SessionInputWriter {
  const key = stdinKey(options.name, options.id);
  const takenKey = stdinTakenKey(options.name, options.id);
  let sent = 0;
  let closed = false;
  let drained = false;
  let wake: (() => void) | undefined;
  let unwatch: Promise<() => void> | undefined;
  const add = (field: "d" | "e", value: Buffer | string) =>
    orUnavailable("send a session's stdin", () => redis.multi().xadd(key, "*", field, value).expire(key, options.ttlSeconds).exec());
  /** Whether fewer than the window's bytes wait for the program (or none will be taken any more). */
  const roomy = async (): Promise<boolean> => {
    const taken = await orUnavailable("read a session's stdin", () => redis.get(takenKey));
    if (taken === DRAINED) drained = true;
    return drained || sent - Number(taken ?? 0) < STDIN_WINDOW_BYTES;
  };
  return {
    write: async (chunk) => {
      if (closed || drained || chunk.length === 0) return;
      await add("d", chunk);
      sent += stdinCharge(chunk.length);
      if (sent < STDIN_WINDOW_BYTES) return;
      unwatch ??= events.watch(options.id, () => wake?.());
      await unwatch;
      while (!closed && !(await roomy())) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RECHECK_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
    end: async () => {
      if (closed || drained) return;
      await add("e", "1");
    },
    signal: async (name) => {
      if (closed || drained) return;
      const added = await orUnavailable("send a session's signal", () => ADD_SIGNAL.run(redis, [key], [name, STREAM_ENTRIES_MAX, options.ttlSeconds]));
      if (added !== 1) throw new InvalidRequestError(tooManySignals());
    },
    close: async () => {
      if (closed) return;
      closed = true;
      wake?.();
      (await unwatch?.catch(() => undefined))?.();
      await redis.del(key, takenKey).catch(() => {});
    },
  };
}

/**
 * The worker's side: XREAD BLOCK on a connection of its own (a blocking read
 * holds its connection), one per running session, so a worker holds at most
 * WARREN_CONCURRENCY of them; read entries are deleted from the stream at
 * once. The stream is read ahead of next() (what waits there is bounded by
 * the writer's window), so a signal is passed on as soon as it is there,
 * whatever the program has not read. `redis` (the worker's connection)
 * counts the taken bytes.
 */
export function redisSessionReader(redisUrl: string, redis: Redis, options: RedisSessionInputOptions): SessionInputReader {
  const key = stdinKey(options.name, options.id);
  const takenKey = stdinTakenKey(options.name, options.id);
  const blocking = workerConnection(redisUrl);
  blocking.on("error", () => {});
  /** Chunks read and not yet given to next(); null: end of input. */
  const waiting: (Buffer | null)[] = [];
  /** Signals read before there was a listener. */
  const signals: SessionSignal[] = [];
  let listener: ((name: SessionSignal) => void) | undefined;
  let wakeNext: (() => void) | undefined;
  let last = "0-0";
  let stopped = false;
  let pumping: Promise<void> | undefined;
  const pump = async () => {
    while (!stopped) {
      let answer: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        answer = (await blocking.xreadBuffer("COUNT", READ_COUNT, "BLOCK", BLOCK_MS, "STREAMS", key, last)) as [Buffer, [Buffer, Buffer[]][]][] | null;
      } catch {
        // closed (the program ended); or an error Redis answered: tried again, not in a tight loop
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (stopped) return;
      const entries = answer?.[0]?.[1] ?? [];
      for (const [entryId, fields] of entries) {
        last = entryId.toString("latin1");
        const field = fields[0]?.toString("latin1");
        const value = fields[1];
        if (field === "e") waiting.push(null);
        else if (field === "d" && value !== undefined && value.length > 0) waiting.push(value);
        else if (field === "s" && value !== undefined) {
          const name = value.toString("latin1");
          if (!isSessionSignal(name)) continue;
          if (listener === undefined) signals.push(name);
          else listener(name);
        }
      }
      // Taken from the stream: Redis holds only what the worker has not read.
      if (entries.length > 0) void redis.xdel(key, ...entries.map(([entryId]) => entryId)).catch(() => {});
      if (waiting.length > 0) wakeNext?.();
    }
  };
  const start = () => {
    pumping ??= pump();
  };
  return {
    next: async () => {
      start();
      while (!stopped) {
        if (waiting.length > 0) return waiting.shift() as Buffer | null;
        await new Promise<void>((resolve) => (wakeNext = resolve));
        wakeNext = undefined;
      }
      return null;
    },
    taken: (bytes) => {
      void COUNT_TAKEN.run(redis, [key, takenKey], [stdinCharge(bytes), options.ttlSeconds, options.channel, options.id]).catch(() => {});
    },
    onSignal: (next) => {
      if (stopped) return;
      listener = next;
      for (const name of signals.splice(0)) next(name);
      start();
    },
    close: async () => {
      if (stopped) return;
      stopped = true;
      waiting.length = 0;
      signals.length = 0;
      listener = undefined;
      wakeNext?.();
      blocking.disconnect();
      // The writer stops waiting, and drops what its client still sends.
      await COUNT_TAKEN.run(redis, [key, takenKey], [DRAINED, options.ttlSeconds, options.channel, options.id]).catch(() => {});
    },
  };
}
