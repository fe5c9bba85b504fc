import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRateLimiter, QueueUnavailableError, RedisRateLimiter } from "../../src/queue/index.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

describe("MemoryRateLimiter", () => {
  it("lets perMinute through per key, then refuses with the seconds until a token is back", async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 3; i++) expect((await limiter.take("a", 3)).allowed).toBe(true);
    expect(await limiter.take("a", 3)).toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect((await limiter.take("b", 3)).allowed).toBe(true); // another key has its own bucket
    now += 20_000;
    expect((await limiter.take("a", 3)).allowed).toBe(true);
  });
});

describe("RedisRateLimiter (real redis-server)", () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis.dispose();
  });
  const client = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: false });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };

  it("counts one key across API instances: the limit holds however requests are spread", async () => {
    const now = () => 1_800_000_000_000 + 30_000; // half a minute into a window
    const one = new RedisRateLimiter(client(), `rl-test-${process.pid}`, now);
    const two = new RedisRateLimiter(client(), `rl-test-${process.pid}`, now);
    await new Promise((resolve) => setTimeout(resolve, 100)); // connected
    expect((await one.take("key", 3)).allowed).toBe(true);
    expect((await two.take("key", 3)).allowed).toBe(true);
    expect((await one.take("key", 3)).allowed).toBe(true);
    expect(await two.take("key", 3)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect((await one.take("other", 3)).allowed).toBe(true);
  });

  it("says the store is unavailable (503) when Redis does not answer", async () => {
    const c = client();
    const limiter = new RedisRateLimiter(c, `rl-test-${process.pid}`);
    c.disconnect();
    await expect(limiter.take("key", 3)).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});
