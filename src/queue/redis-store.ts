import type { Redis } from "ioredis";
import { z } from "zod";
import type { RunResult } from "../worker/run-result.js";
import { orUnavailable } from "./errors.js";

/**
 * Stores only when the run is not final yet: a worker finishing a job that the
 * API cancelled meanwhile must not overwrite the `cancelled` result.
 * KEYS[1] the run's hash; ARGV status, result JSON, TTL seconds, and optionally
 * a channel and the run's id to PUBLISH once stored (one round trip for both).
 * Returns 1 when stored.
 */
const STORE_UNLESS_FINAL = `
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'completed' or current == 'failed' or current == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if ARGV[4] then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1`;

/** KEYS[1] the run's hash; ARGV status, result JSON, TTL seconds. A script rather than a MULTI: one command on the submit path. */
const CREATE = `
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

/** What we read back from Redis is data from outside the process: checked, not trusted. */
const storedResultSchema = z.looseObject({
  id: z.string(),
  status: z.enum(["queued", "running", "completed", "cancelled", "failed"]),
  language: z.string(),
  version: z.string(),
});

/** RunResults in Redis hashes (`<name>:run:<id>`: status, result), readable by every API instance. */
export class RedisResultStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = ttlSeconds;
  }

  key(id: string): string {
    return `${this.#prefix}:run:${id}`;
  }

  async create(result: RunResult): Promise<void> {
    await orUnavailable("store a run", () => this.#redis.eval(CREATE, 1, this.key(result.id), result.status, JSON.stringify(result), this.#ttlSeconds));
  }

  /** Stores `result` unless the run already has a final status, then publishes its id on `announce` if given; whether it stored. */
  async update(result: RunResult, announce?: string): Promise<boolean> {
    const args: (string | number)[] = [result.status, JSON.stringify(result), this.#ttlSeconds];
    if (announce !== undefined) args.push(announce, result.id);
    const stored = await orUnavailable("update a run", () => this.#redis.eval(STORE_UNLESS_FINAL, 1, this.key(result.id), ...args));
    return stored === 1;
  }

  async get(id: string): Promise<RunResult | undefined> {
    const text = await orUnavailable("read a run", () => this.#redis.hget(this.key(id), "result"));
    if (text === null) return undefined;
    return storedResultSchema.parse(JSON.parse(text)) as unknown as RunResult;
  }

  async remove(id: string): Promise<void> {
    await orUnavailable("remove a run", () => this.#redis.del(this.key(id)));
  }
}
