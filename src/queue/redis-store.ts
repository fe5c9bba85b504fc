import type { Redis } from "ioredis";
import { z } from "zod";
import { parseResult, type SerializedResult } from "../run/result-json.js";
import { RUN_STATUSES, type RunResult } from "../run/result.js";
import { orUnavailable } from "./errors.js";
import { appendEventsLua, eventsChannel, eventsKey } from "./redis-events.js";
import { RedisScript } from "./redis-script.js";
import type { WireEvent } from "../run/event-wire.js";

/**
 * Stores only when the run is not final yet: a worker finishing a job that the
 * API cancelled meanwhile must not overwrite the `cancelled` result.
 *
 * A final result is also counted: KEYS[2] (a sorted set of final results'
 * ids by the time they were stored, ms), KEYS[3] (id → bytes of its JSON) and
 * KEYS[4] (their total). Ids whose hash has expired are forgotten; then, while
 * the total is over the cap, the oldest final result is deleted, never the one
 * just stored. Queued and running results are small and not counted, and so
 * never evicted here. (The evicted runs' keys are not in KEYS: Warren's Redis
 * is a single instance, not a cluster.)
 *
 * The new status is appended to the run's event log (KEYS[5], a stream:
 * redis-events.ts), after the run's last events when they come with it (as
 * RedisEventAppender's script appends them: the worker's last append and the
 * final result in one round trip), and announced on the events channel; a
 * final result's size counts its event log's bytes too, and an evicted run
 * loses its log with its hash.
 *
 * KEYS[1] the run's hash, KEYS[5] its event stream. ARGV: status, result
 * JSON, TTL seconds, byte cap, the run keys' prefix, the run's id, the events
 * channel, the event streams' prefix, and optionally a channel to announce
 * the run on once stored ("" for none; one round trip for all) and the most
 * bytes of result JSON the announcement carries: `id`, or, when the result is
 * that small, `id\nstatus\nowner\nJSON` (parseFinishedMessage), so that the
 * API waiting for it needs no read back; then type and JSON of each event to
 * append before the status. Returns 1 when stored.
 */
const STORE_UNLESS_FINAL = new RedisScript(`
local function final(status) return status == 'completed' or status == 'failed' or status == 'cancelled' end
if final(redis.call('HGET', KEYS[1], 'status')) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
if #ARGV > 10 then
${appendEventsLua("KEYS[1]", "KEYS[5]", 11)}
end
local seq = redis.call('HINCRBY', KEYS[1], 'eventSeq', 1)
redis.call('XADD', KEYS[5], '0-' .. seq, 't', 'status', 'd', '{"status":"' .. ARGV[1] .. '"}')
redis.call('EXPIRE', KEYS[5], ttl)
redis.call('PUBLISH', ARGV[7], ARGV[6])
if final(ARGV[1]) then
  local id = ARGV[6]
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local size = #ARGV[2] + (tonumber(redis.call('HGET', KEYS[1], 'eventBytes')) or 0)
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('HSET', KEYS[3], id, size)
  local total = redis.call('INCRBY', KEYS[4], size)
  local function forget(old)
    local size = tonumber(redis.call('HGET', KEYS[3], old)) or 0
    redis.call('HDEL', KEYS[3], old)
    redis.call('ZREM', KEYS[2], old)
    return redis.call('DECRBY', KEYS[4], size)
  end
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000, 'LIMIT', 0, 1000)) do
    if old ~= id then total = forget(old) end
  end
  local cap = tonumber(ARGV[4])
  while total > cap do
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 1)
    local victim = oldest[1]
    if victim == id then victim = oldest[2] end
    if not victim then break end
    redis.call('DEL', ARGV[5] .. victim, ARGV[8] .. victim)
    total = forget(victim)
  end
end
if ARGV[9] ~= '' then
  local message = ARGV[6]
  if #ARGV[2] <= tonumber(ARGV[10]) then message = ARGV[6] .. '\\n' .. ARGV[1] .. '\\n' .. (redis.call('HGET', KEYS[1], 'owner') or '') .. '\\n' .. ARGV[2] end
  redis.call('PUBLISH', ARGV[9], message)
end
return 1`);

/**
 * KEYS[1] the run's hash, KEYS[2] its event stream; ARGV status, result JSON,
 * TTL seconds, owner ("" for none). The stream begins with the status. A
 * script rather than a MULTI: one command on the submit path.
 */
const CREATE = new RedisScript(`
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2], 'eventSeq', 1)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'owner', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('DEL', KEYS[2])
redis.call('XADD', KEYS[2], '0-1', 't', 'status', 'd', '{"status":"' .. ARGV[1] .. '"}')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1`);

/** A status read back from Redis is data from outside the process: checked, not trusted. */
const statusSchema = z.enum(RUN_STATUSES);

/**
 * The most bytes of result JSON a run's end announcement carries. Every API
 * instance receives every announcement (one channel, whatever the number of
 * waiters): a small result saves its waiter a read back, a large one would
 * cost them all its bytes (and Redis holds a subscriber's backlog in its
 * output buffer), so it is read back by its waiter alone.
 */
export const ANNOUNCED_RESULT_MAX_BYTES = 16 * 1024;

/**
 * A run's end as announced (STORE_UNLESS_FINAL): its id, and its result when
 * the announcement carried it. Data from outside the process: a message of
 * another shape is taken for an id alone (its waiter reads the result back).
 */
export function parseFinishedMessage(message: Buffer): { id: string; result?: SerializedResult } {
  const idEnd = message.indexOf(10);
  if (idEnd < 0) return { id: message.toString("latin1") };
  const id = message.toString("latin1", 0, idEnd);
  const statusEnd = message.indexOf(10, idEnd + 1);
  const ownerEnd = statusEnd < 0 ? -1 : message.indexOf(10, statusEnd + 1);
  const status = statusSchema.safeParse(message.toString("latin1", idEnd + 1, statusEnd));
  if (ownerEnd < 0 || !status.success) return { id };
  const owner = message.toString("latin1", statusEnd + 1, ownerEnd);
  const result = { id, status: status.data, json: message.subarray(ownerEnd + 1) };
  return { id, result: owner === "" ? result : { ...result, owner } };
}

export interface RedisStoreOptions {
  /** How long a result is kept. */
  readonly ttlSeconds: number;
  /** Most JSON bytes of final results kept, all together (WARREN_RESULT_STORE_BYTES). */
  readonly maxBytes: number;
}

/**
 * RunResults in Redis hashes (`<name>:run:<id>`: status, result JSON, and
 * the owner, event count and event bytes of its event log `<name>:events:<id>`),
 * readable by every API instance; final results are kept within a byte cap
 * (`<name>:results`, `<name>:results:bytes`, `<name>:results:total`), oldest first.
 */
export class RedisResultStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #options: RedisStoreOptions;
  /** The channel that announces runs whose event log grew. */
  readonly #events: string;

  constructor(redis: Redis, prefix: string, options: RedisStoreOptions) {
    this.#events = eventsChannel(prefix);
    this.#redis = redis;
    this.#prefix = prefix;
    this.#options = options;
  }

  key(id: string): string {
    return `${this.#prefix}:run:${id}`;
  }

  /** The run's event log (a stream: redis-events.ts). */
  eventsKey(id: string): string {
    return eventsKey(this.#prefix, id);
  }

  /** The keys that count final results: ids by time, bytes per id, total bytes. */
  get countKeys(): readonly [string, string, string] {
    return [`${this.#prefix}:results`, `${this.#prefix}:results:bytes`, `${this.#prefix}:results:total`];
  }

  async create(result: SerializedResult): Promise<void> {
    const key = this.key(result.id);
    await orUnavailable("store a run", () => CREATE.run(this.#redis, [key, this.eventsKey(result.id)], [result.status, result.json, this.#options.ttlSeconds, result.owner ?? ""]));
  }

  /**
   * Stores `result` unless the run already has a final status, then
   * announces it on channel `announce` if given (with the result, when it is
   * at most ANNOUNCED_RESULT_MAX_BYTES: parseFinishedMessage); whether it
   * stored. `events`: the run's last events, appended before the new status
   * in the same script (and refused with it when the run is final).
   */
  async update(result: SerializedResult, announce?: string, events: readonly WireEvent[] = []): Promise<boolean> {
    const args: (string | number | Buffer)[] = [result.status, result.json, this.#options.ttlSeconds, this.#options.maxBytes, this.key(""), result.id, this.#events, this.eventsKey(""), announce ?? "", ANNOUNCED_RESULT_MAX_BYTES];
    for (const event of events) args.push(event.type, event.json);
    const key = this.key(result.id);
    const stored = await orUnavailable("update a run", () => STORE_UNLESS_FINAL.run(this.#redis, [key, ...this.countKeys, this.eventsKey(result.id)], args));
    return stored === 1;
  }

  /** The stored bytes, as they are (ioredis' Buffer variant: no string of the whole result is made). */
  async getSerialized(id: string): Promise<SerializedResult | undefined> {
    const [status, json, owner] = await orUnavailable("read a run", () => this.#redis.hmgetBuffer(this.key(id), "status", "result", "owner"));
    if (status === null || status === undefined || json === null || json === undefined) return undefined;
    const stored = { id, status: statusSchema.parse(status.toString("latin1")), json };
    return owner === null || owner === undefined ? stored : { ...stored, owner: owner.toString("latin1") };
  }

  async get(id: string): Promise<RunResult | undefined> {
    const stored = await this.getSerialized(id);
    return stored === undefined ? undefined : parseResult(stored.json);
  }

  async remove(id: string): Promise<void> {
    await orUnavailable("remove a run", () => this.#redis.del(this.key(id), this.eventsKey(id)));
  }
}
