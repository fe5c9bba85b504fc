// Judge0 CE's API on the embedded queue (in-process, no Redis).
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { describe, expect, it } from "vitest";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { testApp } from "../api/fixture.js";
import { judge0Contract } from "./judge0.case.js";

judge0Contract("embedded queue", async () => new MemoryQueue(queueConfig({ WARREN_CONCURRENCY: "2" })));

describe("Judge0 CE API switch and keys", () => {
  it("is served only when WARREN_COMPAT names judge0", async () => {
    const off = await testApp({}, { worker: false });
    try {
      expect((await off.app.request("/judge0/statuses")).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it("takes the API key as X-Auth-Token or X-Auth-User, as well as Authorization: Bearer", async () => {
    const keyed = await testApp({ compat: ["judge0"], apiKeys: ["sekrit"], maxima: MAX_LIMITS }, { worker: false });
    try {
      expect((await keyed.app.request("/judge0/statuses")).status).toBe(401);
      expect((await keyed.app.request("/judge0/statuses", { headers: { "x-auth-token": "wrong" } })).status).toBe(401);
      expect((await keyed.app.request("/judge0/statuses", { headers: { "x-auth-token": "sekrit" } })).status).toBe(200);
      expect((await keyed.app.request("/judge0/statuses", { headers: { "x-auth-user": "sekrit" } })).status).toBe(200);
      expect((await keyed.app.request("/judge0/statuses", { headers: { authorization: "Bearer sekrit" } })).status).toBe(200);
    } finally {
      await keyed.close();
    }
  });
});
