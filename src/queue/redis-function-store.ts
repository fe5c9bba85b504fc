import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script.js";
import type { FunctionFile, FunctionSource } from "../run/functions.js";
import { orUnavailable } from "./errors.js";
import {
  FUNCTION_MAX_BYTES,
  FUNCTION_STORE_BYTES,
  labelTaken,
  parseCode,
  storeFull,
  tooLarge,
  versionParts,
  type FunctionStore,
  type FunctionStoreLimits,
  type ListPage,
  type StoredCode,
  type StoredVersion,
} from "./function-store.js";

/**
 * Commits a version, or says why not. KEYS: [1] the function's hash, [2] the
 * scope's set of names, [3] the code's key (by digest), [4] digest → refs,
 * [5] the store's byte total, [6] the function's number counter (kept past a
 * delete), [7] the deploy job's key. ARGV: name, label ('' none), meta JSON,
 * code JSON, digest, bytes, function cap, store cap, the deploy key's TTL in
 * seconds ('' no deploy id). Returns {number, label}, {number, label, meta}
 * when this deploy job committed already (its version as stored), or {-1}
 * label taken, {-2, used} function full, {-3, used} store full.
 *
 * The function's hash: `bytes`, `v:N` meta JSON, `n:N` label, `l:LABEL` N.
 */
const COMMIT = new RedisScript(`
if ARGV[9] ~= '' then
  local done = redis.call('GET', KEYS[7])
  if done then
    local meta = redis.call('HGET', KEYS[1], 'v:' .. done)
    if meta then return {tonumber(done), redis.call('HGET', KEYS[1], 'n:' .. done), meta} end
  end
end
local label = ARGV[2]
if label ~= '' and redis.call('HEXISTS', KEYS[1], 'l:' .. label) == 1 then return {-1} end
local bytes = tonumber(ARGV[6])
local used = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
if used + bytes > tonumber(ARGV[7]) then return {-2, used} end
local total = tonumber(redis.call('GET', KEYS[5]) or '0')
if total + bytes > tonumber(ARGV[8]) then return {-3, total} end
local n = redis.call('INCR', KEYS[6])
if label == '' then label = tostring(n) end
redis.call('HSET', KEYS[1], 'v:' .. n, ARGV[3], 'n:' .. n, label, 'l:' .. label, n)
redis.call('HINCRBY', KEYS[1], 'bytes', bytes)
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('HINCRBY', KEYS[4], ARGV[5], 1) == 1 then redis.call('SET', KEYS[3], ARGV[4]) end
redis.call('INCRBY', KEYS[5], bytes)
if ARGV[9] ~= '' then redis.call('SET', KEYS[7], n, 'EX', ARGV[9]) end
return {n, label}`);

/**
 * Deletes a function. KEYS: [1] its hash, [2] the scope's names, [3] digest
 * → refs, [4] the byte total; ARGV: name, the code keys' prefix, the removed
 * channel, the message. Returns 1 when it existed.
 */
const REMOVE = new RedisScript(`
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return 0 end
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'v:' then
    local digest = cjson.decode(fields[i + 1]).digest
    if redis.call('HINCRBY', KEYS[3], digest, -1) <= 0 then
      redis.call('HDEL', KEYS[3], digest)
      redis.call('DEL', ARGV[2] .. digest)
    end
  end
end
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
redis.call('DECRBY', KEYS[4], bytes)
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`);

/**
 * One page of a scope's functions, by name. KEYS: [1] the scope's names.
 * ARGV: the functions' key prefix, the last name of the page before ('' from
 * the first), the page's size. Returns name, versions, the latest's number,
 * label and meta JSON, for each function in turn: one round trip, and only
 * the latest version's metadata crosses.
 */
const LIST = new RedisScript(`
local names = redis.call('SMEMBERS', KEYS[1])
table.sort(names)
local out, n, limit = {}, 0, tonumber(ARGV[3])
for _, name in ipairs(names) do
  if n >= limit then break end
  if name > ARGV[2] then
    local key = ARGV[1] .. name
    local count, latest = 0, -1
    for _, field in ipairs(redis.call('HKEYS', key)) do
      if string.sub(field, 1, 2) == 'v:' then
        count = count + 1
        local number = tonumber(string.sub(field, 3))
        if number > latest then latest = number end
      end
    end
    if count > 0 then
      local fields = redis.call('HMGET', key, 'v:' .. latest, 'n:' .. latest)
      out[#out + 1] = name
      out[#out + 1] = count
      out[#out + 1] = latest
      out[#out + 1] = fields[2] or tostring(latest)
      out[#out + 1] = fields[1]
      n = n + 1
    end
  end
end
return out`);

/**
 * One version of a function. KEYS: [1] its hash. ARGV: how it is named
 * (`number`, `label`, or `latest`), and the number or label. Returns its
 * number, label and meta JSON, or nil: one round trip, and only that
 * version's metadata crosses (an invocation resolves its version twice, at
 * the API and at the worker, whatever the number of versions).
 */
const RESOLVE = new RedisScript(`
local number
if ARGV[1] == 'number' then
  number = tonumber(ARGV[2])
elseif ARGV[1] == 'label' then
  number = tonumber(redis.call('HGET', KEYS[1], 'l:' .. ARGV[2]))
else
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 'v:' then
      local n = tonumber(string.sub(field, 3))
      if number == nil or n > number then number = n end
    end
  end
end
if number == nil then return nil end
local fields = redis.call('HMGET', KEYS[1], 'v:' .. number, 'n:' .. number)
if not fields[1] then return nil end
return {number, fields[2] or tostring(number), fields[1]}`);

/** How long a deploy job's commit is remembered (its re-runs, after a stall, find it): longer than any job lives. */
const DEPLOY_KEY_TTL_S = 24 * 3600;

/**
 * Functions in Redis, where every API instance and worker reads them:
 * `<q>:fn:<scope>:<name>` (a hash of versions), `<q>:fn-names:<scope>`,
 * `<q>:fn-code:<digest>` (code and build as JSON, once per digest),
 * `<q>:fn-refs`, `<q>:fn-bytes`, `<q>:fn-seq:<scope>:<name>`,
 * `<q>:fn-deploy:<deploy job id>` (the number it committed, for a day); removals are
 * announced on `<q>:fn-removed`. Versions have no TTL: they live until the
 * function is deleted, within the byte caps.
 */
export class RedisFunctionStore implements FunctionStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: FunctionStoreLimits;
  readonly #subscribe: () => Promise<Redis>;

  /** `subscriber`: a connection in subscriber mode (shared with the queue's other channels), made on first use. */
  constructor(redis: Redis, name: string, subscriber: () => Promise<Redis>, limits: Partial<FunctionStoreLimits> = {}) {
    this.#redis = redis;
    this.#prefix = name;
    this.#subscribe = subscriber;
    this.#limits = { functionMaxBytes: limits.functionMaxBytes ?? FUNCTION_MAX_BYTES, storeMaxBytes: limits.storeMaxBytes ?? FUNCTION_STORE_BYTES };
  }

  get removedChannel(): string {
    return `${this.#prefix}:fn-removed`;
  }

  #fnKey(scope: string, name: string): string {
    return `${this.#prefix}:fn:${scope}:${name}`;
  }

  async versions(scope: string, name: string): Promise<StoredVersion[]> {
    const fields = await orUnavailable("read a function", () => this.#redis.hgetall(this.#fnKey(scope, name)));
    return versionsOf(fields);
  }

  async list(scope: string, page: ListPage = {}) {
    const args = [`${this.#prefix}:fn:${scope}:`, page.after ?? "", String(page.limit ?? Number.MAX_SAFE_INTEGER)];
    const flat = (await orUnavailable("list functions", () => LIST.run(this.#redis, [`${this.#prefix}:fn-names:${scope}`], args))) as (string | number)[];
    const listed = [];
    for (let i = 0; i + 4 < flat.length; i += 5) {
      const latest: StoredVersion = Object.freeze({ ...(JSON.parse(String(flat[i + 4])) as Omit<StoredVersion, "version" | "number">), number: Number(flat[i + 2]), version: String(flat[i + 3]) });
      listed.push({ name: String(flat[i]), versions: Number(flat[i + 1]), latest });
    }
    return listed;
  }

  async resolve(scope: string, name: string, ref?: string): Promise<StoredVersion | undefined> {
    const how = ref === undefined ? ["latest", ""] : /^[0-9]+$/.test(ref) ? ["number", String(Number(ref))] : ["label", ref];
    const answer = (await orUnavailable("read a function", () => RESOLVE.run(this.#redis, [this.#fnKey(scope, name)], how))) as [number, string, string] | null;
    if (answer === null) return undefined;
    return Object.freeze({ ...(JSON.parse(answer[2]) as Omit<StoredVersion, "version" | "number">), number: answer[0], version: String(answer[1]) });
  }

  async check(scope: string, name: string, label: string | undefined, bytes: number): Promise<void> {
    const [fields, total] = await orUnavailable("read a function", () => Promise.all([this.#redis.hgetall(this.#fnKey(scope, name)), this.#redis.get(`${this.#prefix}:fn-bytes`)]));
    if (label !== undefined && fields[`l:${label}`] !== undefined) throw labelTaken(name, label);
    const used = Number(fields.bytes ?? 0);
    if (used + bytes > this.#limits.functionMaxBytes) throw tooLarge(name, used, bytes, this.#limits.functionMaxBytes);
    if (Number(total ?? 0) + bytes > this.#limits.storeMaxBytes) throw storeFull(Number(total ?? 0), bytes, this.#limits.storeMaxBytes);
  }

  async commit(scope: string, source: FunctionSource, build: readonly FunctionFile[] | null, label: string | undefined, deployId?: string): Promise<StoredVersion> {
    const parts = versionParts(source, build, new Date().toISOString());
    const keys = [
      this.#fnKey(scope, source.name),
      `${this.#prefix}:fn-names:${scope}`,
      `${this.#prefix}:fn-code:${parts.digest}`,
      `${this.#prefix}:fn-refs`,
      `${this.#prefix}:fn-bytes`,
      `${this.#prefix}:fn-seq:${scope}:${source.name}`,
      `${this.#prefix}:fn-deploy:${deployId ?? ""}`,
    ];
    const args = [source.name, label ?? "", parts.metaJson, parts.codeJson, parts.digest, String(parts.bytes), String(this.#limits.functionMaxBytes), String(this.#limits.storeMaxBytes), deployId === undefined ? "" : String(DEPLOY_KEY_TTL_S)];
    const answer = (await orUnavailable("store a function", () => COMMIT.run(this.#redis, keys, args))) as [number, string | number, string?];
    // This deploy job committed before (BullMQ ran it again after a stall): its version, not a second one.
    if (answer[2] !== undefined) return Object.freeze({ ...(JSON.parse(answer[2]) as Omit<StoredVersion, "version" | "number">), number: answer[0], version: String(answer[1]) });
    if (answer[0] === -1) throw labelTaken(source.name, label ?? "");
    if (answer[0] === -2) throw tooLarge(source.name, Number(answer[1]), parts.bytes, this.#limits.functionMaxBytes);
    if (answer[0] === -3) throw storeFull(Number(answer[1]), parts.bytes, this.#limits.storeMaxBytes);
    return Object.freeze({ ...(JSON.parse(parts.metaJson) as Omit<StoredVersion, "version" | "number">), number: answer[0], version: String(answer[1]) });
  }

  async code(digest: string): Promise<StoredCode | undefined> {
    const json = await orUnavailable("read a function's code", () => this.#redis.get(`${this.#prefix}:fn-code:${digest}`));
    return json === null ? undefined : parseCode(json);
  }

  async remove(scope: string, name: string): Promise<boolean> {
    const keys = [this.#fnKey(scope, name), `${this.#prefix}:fn-names:${scope}`, `${this.#prefix}:fn-refs`, `${this.#prefix}:fn-bytes`];
    const args = [name, `${this.#prefix}:fn-code:`, this.removedChannel, JSON.stringify([scope, name])];
    return (await orUnavailable("delete a function", () => REMOVE.run(this.#redis, keys, args))) === 1;
  }

  async onRemoved(listener: (scope: string, name: string) => void): Promise<() => void> {
    const subscriber = await this.#subscribe();
    const channel = this.removedChannel;
    await subscriber.subscribe(channel);
    const onMessage = (from: string, message: string) => {
      if (from !== channel) return;
      const parsed = JSON.parse(message) as unknown;
      if (Array.isArray(parsed) && typeof parsed[0] === "string" && typeof parsed[1] === "string") listener(parsed[0], parsed[1]);
    };
    subscriber.on("message", onMessage);
    return () => subscriber.off("message", onMessage);
  }
}

/** A function hash's versions (data from Redis: the shape is Warren's own, written by COMMIT), oldest first. */
function versionsOf(fields: Record<string, string>): StoredVersion[] {
  const versions: StoredVersion[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith("v:")) continue;
    const number = Number(field.slice(2));
    versions.push(Object.freeze({ ...(JSON.parse(value) as Omit<StoredVersion, "version" | "number">), number, version: fields[`n:${number}`] ?? String(number) }));
  }
  return versions.sort((a, b) => a.number - b.number);
}
