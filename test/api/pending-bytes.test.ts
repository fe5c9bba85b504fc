/* What the server holds before a worker takes a run (SECURITY.md, finding 1's
 * class: the server must survive any sequence of valid requests). Each
 * request is bounded by WARREN_MAX_BODY_BYTES, but nothing bounded how many
 * the embedded queue held: valid requests sent without waiting, faster than
 * the workers ran them, piled up in the server's heap until it died. Now the
 * waiting runs' requests, and the bodies being read at once, are bounded in
 * bytes (WARREN_PENDING_MAX_BYTES); past it the API answers 503 with
 * Retry-After and queues nothing. */
import { afterEach, describe, expect, it } from "vitest";
import { Admission } from "../../src/api/admission.js";
import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { eventually } from "../helpers/eventually.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { post, python, testApp, type TestApp } from "./fixture.js";

const KiB = 1024;
let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe("requests held before a worker takes them", () => {
  it("past WARREN_PENDING_MAX_BYTES of waiting runs, a new one is 503 with Retry-After and nothing is queued; it is taken again once runs leave", async () => {
    // two workers, each held by a sleeper, so that later runs wait
    const queue = new MemoryQueue(queueConfig({ WARREN_CONCURRENCY: "2", WARREN_PENDING_MAX_BYTES: String(1024 * KiB) }));
    current = await testApp({}, { queue });
    const { app } = current;
    const sleeper = python("import time\ntime.sleep(60)", { limits: { wallTimeMs: 60_000 } });
    const sleepers: string[] = [];
    for (let i = 0; i < 2; i++) sleepers.push(((await (await app.request("/v1/runs", post(sleeper))).json()) as { id: string }).id);
    await eventually("both sleepers to run", async () => ((await queue.depth()) === 0 ? true : undefined), 20_000 * TIME_SCALE);

    const big = python("print(len(input()))", { stdin: "x".repeat(400 * KiB) + "\n" });
    const waiting: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await app.request("/v1/runs", post(big));
      expect(response.status).toBe(202);
      waiting.push(((await response.json()) as { id: string }).id);
    }
    const refused = await app.request("/v1/runs", post(big));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("WARREN_PENDING_MAX_BYTES"), details: { reason: "busy" } } });
    expect(await queue.depth()).toBe(2);
    // the bound is bytes: a small run still fits
    const small = await app.request("/v1/runs", post(python("print(1)")));
    expect(small.status).toBe(202);
    waiting.push(((await small.json()) as { id: string }).id);

    for (const id of sleepers) expect((await app.request(`/v1/runs/${id}`, { method: "DELETE" })).status).toBe(200);
    for (const id of waiting) {
      const done = await eventually(`run ${id} to finish`, async () => {
        const result = (await (await app.request(`/v1/runs/${id}`)).json()) as { status: string; run: { stdout: string } | null };
        return result.status === "completed" ? result : undefined;
      }, 60_000 * TIME_SCALE);
      expect(["1\n", `${400 * KiB}\n`]).toContain(done.run?.stdout);
    }
    const again = await app.request("/v1/runs?wait=true", post(big));
    expect(again.status).toBe(200);
  });

  it("a body that is not JSON is a 400 and lets its reservation go (POST /v1/runs, Piston's execute): the next request is read, not refused", async () => {
    current = await testApp({ compat: ["piston"], pendingMaxBytes: 1 * KiB }, { worker: false });
    const { app } = current;
    for (let i = 0; i < 3; i++) {
      const runs = await app.request("/v1/runs", post("{not json"));
      expect(runs.status).toBe(400);
      expect(await runs.json()).toMatchObject({ error: { code: "invalid_request", message: expect.stringContaining("not valid JSON"), details: [] } });
      const piston = await app.request("/piston/api/v2/execute", post("{not json"));
      expect(piston.status).toBe(400);
      expect(await piston.json()).toEqual({ message: "The request body is not valid JSON." });
    }
    expect((await app.request("/v1/runs", post(python("print(1)")))).status).toBe(202);
  });

  it("bodies read at once: one always fits; past the bound, BusyError before a byte is read; each reservation is let go once", () => {
    const admission = new Admission(1024 * KiB);
    const first = admission.reserve(4096 * KiB); // larger than the bound, alone: taken
    expect(() => admission.reserve(1)).toThrow(expect.objectContaining({ code: "unavailable", retryAfterSeconds: 1 }));
    first();
    first(); // twice: let go once
    const a = admission.reserve(600 * KiB);
    expect(() => admission.reserve(600 * KiB)).toThrow(expect.objectContaining({ code: "unavailable" }));
    const b = admission.reserve(400 * KiB);
    a();
    b();
    admission.reserve(1024 * KiB)();
  });
});
