/* Per-run Lua scripts go to Redis by their SHA1 (EVALSHA), their text only
 * when Redis does not have them (src/queue/redis-script.ts): checked on a real
 * redis-server by its own command counts (INFO commandstats). */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisEventAppender } from "../../src/queue/redis-events.js";
import { RedisScript } from "../../src/queue/redis-script.js";
import { RedisResultStore } from "../../src/queue/redis-store.js";
import { RedisFunctionStore } from "../../src/queue/redis-function-store.js";
import { RedisRateLimiter } from "../../src/queue/rate-limiter.js";
import { serializeResult } from "../../src/run/result-json.js";
import { pendingResult } from "../../src/run/result.js";
import { statusEvent } from "../../src/run/event-wire.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

describe("RedisScript (real redis-server)", () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    client.disconnect();
    await redis.dispose();
  });

  /** Calls of EVAL and EVALSHA so far, as Redis counted them. */
  const calls = async () => {
    const stats = await client.info("commandstats");
    const count = (name: string) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, "m").exec(stats)?.[1] ?? 0);
    return { eval: count("eval"), evalsha: count("evalsha") };
  };

  it("sends its text once, then its SHA; again once after Redis forgot it (SCRIPT FLUSH)", async () => {
    await client.config("RESETSTAT");
    const script = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    const key = `script-test-${process.pid}`;
    for (let i = 1; i <= 5; i++) expect(await script.run(client, [key], [2])).toBe(2 * i);
    expect(await calls()).toEqual({ eval: 1, evalsha: 5 }); // the first EVALSHA answered NOSCRIPT
    await client.script("FLUSH");
    expect(await script.run(client, [key], [1])).toBe(11);
    expect(await script.run(client, [key], [1])).toBe(12);
    expect(await calls()).toEqual({ eval: 2, evalsha: 7 });
  });

  it("passes Redis' other errors on", async () => {
    const script = new RedisScript("return redis.error_reply('ERR from the script')");
    await expect(script.run(client, [], [])).rejects.toThrow(/from the script/);
  });

  it("the result store and the event appender run their scripts by SHA: a run's text is sent at most once per script", async () => {
    const store = new RedisResultStore(client, `script-store-${process.pid}`, { ttlSeconds: 60, maxBytes: 2 ** 20 });
    await client.config("RESETSTAT");
    for (let i = 0; i < 5; i++) {
      const job = { id: `run-${i}`, language: "python", version: "3" };
      await store.create(serializeResult(pendingResult(job, "queued")));
      await store.update(serializeResult(pendingResult(job, "running")));
      const events = new RedisEventAppender(client, { run: store.key(job.id), events: store.eventsKey(job.id) }, { ttlSeconds: 60, channel: "c", id: job.id });
      events.append([statusEvent("running")]);
      await events.drained();
    }
    const { eval: evals, evalsha } = await calls();
    expect(evals).toBeLessThanOrEqual(3); // create, update, append: each sent once at most
    expect(evalsha).toBe(15); // every call asks by SHA first
    expect(await client.xlen(store.eventsKey("run-4"))).toBe(3); // queued, running, and the appended event
  });

  it("an invocation's scripts (its version resolved, a request counted) go by SHA too", async () => {
    const functions = new RedisFunctionStore(client, `script-fn-${process.pid}`, () => Promise.reject(new Error("not subscribed here")));
    const limiter = new RedisRateLimiter(client, `script-rate-${process.pid}`);
    await client.config("RESETSTAT");
    for (let i = 0; i < 5; i++) {
      expect(await functions.resolve("", "absent")).toBeUndefined();
      expect((await limiter.take("key", 100)).allowed).toBe(true);
    }
    const { eval: evals, evalsha } = await calls();
    expect(evals).toBeLessThanOrEqual(2);
    expect(evalsha).toBe(10);
  });
});
