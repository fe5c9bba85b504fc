// Both function stores against one contract: the memory store here, Redis against a real redis-server.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { MemoryFunctionStore } from "../../src/queue/function-store.js";
import { RedisFunctionStore } from "../../src/queue/redis-function-store.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { functionStoreContract } from "./function-store.case.js";

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
