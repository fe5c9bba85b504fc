import { describe, expect, it } from "vitest";
import { queueConfig } from "./config.js";

describe("queueConfig", () => {
  it("has defaults", () => {
    const config = queueConfig({});
    expect(config.redisUrl).toBeUndefined();
    expect(config.concurrency).toBeGreaterThanOrEqual(1);
    expect(config.attempts).toBe(3);
  });

  it("reads the environment", () => {
    const config = queueConfig({ REDIS_URL: "redis://127.0.0.1:7000", WARREN_CONCURRENCY: "3", WARREN_RESULT_TTL_S: "60" });
    expect(config).toMatchObject({ redisUrl: "redis://127.0.0.1:7000", concurrency: 3, resultTtlSeconds: 60 });
  });

  it("names the bad variable", () => {
    expect(() => queueConfig({ WARREN_CONCURRENCY: "0" })).toThrow(/WARREN_CONCURRENCY must be at least 1/);
    expect(() => queueConfig({ WARREN_CONCURRENCY: "two" })).toThrow(/WARREN_CONCURRENCY must be an integer/);
  });
});
