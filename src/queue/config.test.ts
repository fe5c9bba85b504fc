import { describe, expect, it } from "vitest";
import { queueConfig, resultMaxBytes } from "./config.js";

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

  it("bounds results: 16 MiB of output per result and 256 MiB of stored results by default, and names a bad value", () => {
    expect(queueConfig({})).toMatchObject({ resultMaxBytes: 16 * 1024 * 1024, resultStoreBytes: 256 * 1024 * 1024 });
    expect(queueConfig({ WARREN_RESULT_MAX_BYTES: "0", WARREN_RESULT_STORE_BYTES: "1048576" })).toMatchObject({ resultMaxBytes: 0, resultStoreBytes: 1024 * 1024 });
    expect(() => queueConfig({ WARREN_RESULT_MAX_BYTES: String(64 * 1024 * 1024 + 1) })).toThrow(/WARREN_RESULT_MAX_BYTES must be at most 67108864/);
    expect(() => queueConfig({ WARREN_RESULT_STORE_BYTES: "1000" })).toThrow(/WARREN_RESULT_STORE_BYTES must be at least 1048576/);
    expect(resultMaxBytes({})).toBe(16 * 1024 * 1024);
    expect(resultMaxBytes({ WARREN_RESULT_MAX_BYTES: "4096" })).toBe(4096);
    expect(() => resultMaxBytes({ WARREN_RESULT_MAX_BYTES: "-1" })).toThrow(/WARREN_RESULT_MAX_BYTES must be at least 0/);
  });

  it("names the bad variable", () => {
    expect(() => queueConfig({ WARREN_CONCURRENCY: "0" })).toThrow(/WARREN_CONCURRENCY must be at least 1/);
    expect(() => queueConfig({ WARREN_CONCURRENCY: "two" })).toThrow(/WARREN_CONCURRENCY must be an integer/);
  });
});
