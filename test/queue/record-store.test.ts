// Both record stores (a compatible API's own fields beside the results) against one contract: in memory, and in a real Redis.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRecordStore, type RecordStore, type RecordStoreLimits } from "../../src/queue/record-store.js";
import { RedisRecordStore } from "../../src/queue/redis-record-store.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

let redis: TestRedis;
let connection: Redis;
beforeAll(async () => {
  redis = await startRedis();
  connection = new Redis(redis.url);
});
afterAll(async () => {
  connection?.disconnect();
  await redis?.dispose();
});

const HOUR = 3_600_000;

function recordStoreContract(name: string, open: (limits: RecordStoreLimits) => RecordStore): void {
  describe(`record store (${name})`, () => {
    it("keeps, replaces, updates only what is there, removes, and pages newest first", async () => {
      const store = open({ ttlMs: HOUR, max: 100, maxBytes: 10_000 });
      await store.put("a", '{"n":1}');
      await store.put("b", '{"n":2}');
      await store.put("a", '{"n":3}');
      expect(await store.get("a")).toBe('{"n":3}');
      // A replaced record keeps its age: "b" is still the newest.
      expect(await store.page(0, 10)).toEqual({ ids: ["b", "a"], total: 2 });
      expect(await store.page(1, 1)).toEqual({ ids: ["a"], total: 2 });
      expect(await store.update("b", '{"n":4}')).toBe(true);
      expect(await store.remove("b")).toBe(true);
      expect(await store.remove("b")).toBe(false);
      expect(await store.update("b", '{"n":5}')).toBe(false);
      expect(await store.get("b")).toBeUndefined();
      expect(await store.page(0, 10)).toEqual({ ids: ["a"], total: 1 });
    });

    it("holds at most `max` records and `maxBytes` bytes, dropping the oldest first, never the one just written", async () => {
      const counted = open({ ttlMs: HOUR, max: 3, maxBytes: 10_000 });
      for (const id of ["1", "2", "3", "4", "5"]) await counted.put(id, "{}");
      expect(await counted.page(0, 10)).toEqual({ ids: ["5", "4", "3"], total: 3 });
      expect(await counted.get("1")).toBeUndefined();
      const sized = open({ ttlMs: HOUR, max: 100, maxBytes: 25 });
      for (const id of ["1", "2", "3"]) await sized.put(id, "x".repeat(10));
      expect((await sized.page(0, 10)).ids).toEqual(["3", "2"]);
      await sized.put("big", "x".repeat(40));
      expect((await sized.page(0, 10)).ids).toEqual(["big"]);
    });

    it("forgets records past their time to live", async () => {
      const store = open({ ttlMs: 50, max: 100, maxBytes: 10_000 });
      await store.put("old", "{}");
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await store.get("old")).toBeUndefined();
      expect(await store.page(0, 10)).toEqual({ ids: [], total: 0 });
    });
  });
}

recordStoreContract("memory", (limits) => new MemoryRecordStore(limits));
recordStoreContract("Redis", (limits) => new RedisRecordStore(connection, `rec-${randomUUID().slice(0, 8)}`, limits));
