import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script.js";
import { orUnavailable } from "./errors.js";
import type { RecordStore, RecordStoreLimits } from "./record-store.js";

/**
 * KEYS[1] the index (a sorted set of ids by creation time, ms), KEYS[2] id →
 * bytes, KEYS[3] total bytes; ARGV the record keys' prefix, the id, the JSON,
 * TTL ms, most records, most bytes, and "1" to write only over a record that
 * is still there (returns 0 when it is not). Writes the record (keeping its creation
 * time when it exists), forgets expired ids, then deletes the oldest records
 * while over either bound, never the one just written.
 */
const PUT = new RedisScript(`
local prefix, id, json = ARGV[1], ARGV[2], ARGV[3]
local ttl, max, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if ARGV[7] == '1' and redis.call('EXISTS', prefix .. id) == 0 then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local created = tonumber(redis.call('ZSCORE', KEYS[1], id)) or now
local left = math.max(1, created + ttl - now)
redis.call('SET', prefix .. id, json, 'PX', left)
redis.call('ZADD', KEYS[1], created, id)
local total = redis.call('INCRBY', KEYS[3], #json - (tonumber(redis.call('HGET', KEYS[2], id)) or 0))
redis.call('HSET', KEYS[2], id, #json)
local function forget(old)
  local size = tonumber(redis.call('HGET', KEYS[2], old)) or 0
  redis.call('HDEL', KEYS[2], old)
  redis.call('ZREM', KEYS[1], old)
  redis.call('DEL', prefix .. old)
  return redis.call('DECRBY', KEYS[3], size)
end
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl, 'LIMIT', 0, 1000)) do
  if old ~= id then total = forget(old) end
end
while redis.call('ZCARD', KEYS[1]) > max or total > cap do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 1)
  local victim = oldest[1]
  if victim == id then victim = oldest[2] end
  if not victim then break end
  total = forget(victim)
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return 1`);

/** KEYS as PUT's; ARGV prefix, id, TTL ms. Forgets expired ids, then answers how many are left. */
const COUNT = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 1000)) do
  local size = tonumber(redis.call('HGET', KEYS[2], old)) or 0
  redis.call('HDEL', KEYS[2], old)
  redis.call('ZREM', KEYS[1], old)
  redis.call('DEL', ARGV[1] .. old)
  redis.call('DECRBY', KEYS[3], size)
end
if ARGV[2] ~= '' then
  local size = tonumber(redis.call('HGET', KEYS[2], ARGV[2])) or 0
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('DECRBY', KEYS[3], size)
  local removed = redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('DEL', ARGV[1] .. ARGV[2])
  return removed
end
return redis.call('ZCARD', KEYS[1])`);

/**
 * Records in Redis (`<prefix>:<id>` strings with a TTL), indexed by creation
 * time (`<prefix>`, with `<prefix>:bytes` and `<prefix>:total`), so that every
 * API instance reads and lists the same ones within the same bounds.
 */
export class RedisRecordStore implements RecordStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: RecordStoreLimits;

  constructor(redis: Redis, prefix: string, limits: RecordStoreLimits) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limits = limits;
  }

  get #keys(): [string, string, string] {
    return [`${this.#prefix}:index`, `${this.#prefix}:bytes`, `${this.#prefix}:total`];
  }

  #key(id: string): string {
    return `${this.#prefix}:r:${id}`;
  }

  async put(id: string, json: string): Promise<void> {
    await this.#put(id, json, false);
  }

  async update(id: string, json: string): Promise<boolean> {
    return (await this.#put(id, json, true)) === 1;
  }

  #put(id: string, json: string, onlyIfPresent: boolean): Promise<unknown> {
    return orUnavailable("store a record", () =>
      PUT.run(this.#redis, this.#keys, [`${this.#prefix}:r:`, id, json, Math.ceil(this.#limits.ttlMs), this.#limits.max, this.#limits.maxBytes, onlyIfPresent ? "1" : "0"]),
    );
  }

  async get(id: string): Promise<string | undefined> {
    return (await orUnavailable("read a record", () => this.#redis.get(this.#key(id)))) ?? undefined;
  }

  async remove(id: string): Promise<boolean> {
    return (await orUnavailable("remove a record", () => COUNT.run(this.#redis, this.#keys, [`${this.#prefix}:r:`, id, Math.ceil(this.#limits.ttlMs)]))) === 1;
  }

  async page(offset: number, count: number): Promise<{ ids: string[]; total: number }> {
    const total = Number(await orUnavailable("count records", () => COUNT.run(this.#redis, this.#keys, [`${this.#prefix}:r:`, "", Math.ceil(this.#limits.ttlMs)])));
    if (count <= 0) return { ids: [], total };
    const ids = await orUnavailable("list records", () => this.#redis.zrevrange(this.#keys[0], offset, offset + count - 1));
    return { ids, total };
  }
}
