// Both function stores against one contract: the memory store here, Redis against a real redis-server.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryFunctionStore } from "../../src/queue/function-store.js";
import { RedisFunctionStore } from "../../src/queue/redis-function-store.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { functionStoreContract, source } from "./function-store.case.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

functionStoreContract("memory", async () => {
  const store = new MemoryFunctionStore();
  return { store, bytes: async () => store.bytes, close: async () => {} };
});

functionStoreContract("Redis", async () => {
  const name = `fs-${randomUUID().slice(0, 8)}`;
  const connection = new Redis(redis.url);
  const subscriber = connection.duplicate();
  const store = new RedisFunctionStore(connection, name, async () => subscriber);
  return {
    store,
    bytes: async () => Number((await connection.get(`${name}:fn-bytes`)) ?? 0),
    close: async () => {
      subscriber.disconnect();
      connection.disconnect();
    },
  };
});

describe("RedisFunctionStore.resolve", () => {
  it("reads only the version it resolves (by number, label or latest), not every version's metadata: an invocation resolves twice", async () => {
    const name = `fs-${randomUUID().slice(0, 8)}`;
    const connection = new Redis(redis.url);
    try {
      const store = new RedisFunctionStore(connection, name, async () => connection);
      await store.commit("", source("f", "a = 1"), null, undefined);
      const two = await store.commit("", source("f", "a = 2"), null, "blue");
      // the first version's metadata is unreadable: resolving another version must not even parse it
      await connection.hset(`${name}:fn::f`, "v:1", "not json");
      for (const ref of [undefined, "2", "blue"]) expect(await store.resolve("", "f", ref)).toMatchObject({ number: 2, version: "blue", digest: two.digest });
      expect(await store.resolve("", "f", "3")).toBeUndefined();
      expect(await store.resolve("", "f", "green")).toBeUndefined();
    } finally {
      connection.disconnect();
    }
  });
});
