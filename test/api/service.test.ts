import http from "node:http";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageInfoSchema } from "../../src/api/images.js";
import { runResultSchema } from "../../src/run/result-schema.js";
import { errorSchema, languageSchema } from "../../src/api/answer-schemas.js";
import { BullMqQueue } from "../../src/queue/bullmq-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { eventually } from "../helpers/eventually.js";
import { startRedis } from "../helpers/redis-server.js";
import { LOOPBACK_CALLBACKS, post, python, testApp, type TestApp } from "./fixture.js";

const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

describe("auth (WARREN_API_KEYS)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ apiKeys: ["k1", "k2"] }, { worker: false });
  });
  afterAll(async () => t?.close());

  it("401s /v1 without a key or with a wrong one", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: "Basic k1" }] as Record<string, string>[]) {
      const response = await t.app.request("/v1/languages", { headers });
      expect(response.status).toBe(401);
      expect(errorSchema.parse(await json(response)).error.code).toBe("unauthorized");
    }
  });

  it("lets a valid key in", async () => {
    expect((await t.app.request("/v1/languages", { headers: { authorization: "Bearer k2" } })).status).toBe(200);
  });

  it("keeps health, metrics and the OpenAPI document open", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) expect((await t.app.request(path)).status).toBe(200);
  });
});

describe("rate limit", () => {
  it("429s past the per-key limit with Retry-After, per key", async () => {
    const t = await testApp({ apiKeys: ["a", "b"], rateLimitPerMinute: 2 }, { worker: false });
    try {
      const as = (key: string) => t.app.request("/v1/languages", { headers: { authorization: `Bearer ${key}` } });
      expect((await as("a")).status).toBe(200);
      expect((await as("a")).status).toBe(200);
      const limited = await as("a");
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(errorSchema.parse(await json(limited)).error.code).toBe("rate_limited");
      expect((await as("b")).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe("languages, health, metrics, openapi", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(async () => t?.close());

  it("lists the languages", async () => {
    const rows = languageSchema.strict().array().parse(await (await t.app.request("/v1/languages")).json());
    expect(rows.find((row) => row.id === "python")).toMatchObject({ compiled: false, image: "host" });
    expect(rows.find((row) => row.id === "cpp")?.compiled).toBe(true);
  });

  it("lists the images, the host image among them", async () => {
    const rows = imageInfoSchema.strict().array().parse(await (await t.app.request("/v1/images")).json());
    expect(rows[0]).toMatchObject({ name: "host", digest: null, source: "host" });
    expect(rows[0]?.languages.map((language) => language.id)).toContain("python");
  });

  it("answers 503 with the reason when not ready", async () => {
    const notReady = await testApp({}, { worker: false, ready: async () => ({ ok: false, reason: "a sandbox cannot start: test" }) });
    try {
      const response = await notReady.app.request("/readyz");
      expect(response.status).toBe(503);
      expect(errorSchema.parse(await json(response)).error).toMatchObject({ code: "unavailable", message: expect.stringContaining("a sandbox cannot start") });
      expect((await notReady.app.request("/healthz")).status).toBe(200);
    } finally {
      await notReady.close();
    }
  });

  it("exports Prometheus metrics: queue depth, runs by verdict, durations, active sandboxes", async () => {
    await t.app.request("/v1/runs?wait=true", post(python("print(1)")));
    const response = await t.app.request("/metrics");
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^warren_queue_depth 0$/m);
    expect(text).toMatch(/^warren_runs_total\{status="completed",verdict="accepted"\} [1-9]/m);
    expect(text).toMatch(/^warren_run_duration_seconds_count\{language="python"\} [1-9]/m);
    expect(text).toMatch(/^warren_active_sandboxes 0$/m);
  });

  it("serves an OpenAPI document generated from the schemas", async () => {
    const doc = (await (await t.app.request("/openapi.json")).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties: boolean } }> } }>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/runs", "/v1/runs/{id}", "/v1/languages", "/v1/images", "/healthz", "/readyz", "/metrics"]));
    const body = doc.paths["/v1/runs"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(expect.arrayContaining(["language", "files", "limits", "tests", "checker", "callbackUrl", "keepOutput"]));
    expect(body?.properties?.keepOutput).toMatchObject({ enum: ["all", "failed", "none"], default: "all", description: expect.stringContaining("failed") });
    expect(body?.additionalProperties).toBe(false);
    // the extensions of issue 12: checker programs, scored tests and groups, and what the result reports of them
    expect(Object.keys(body?.properties ?? {})).toEqual(expect.arrayContaining(["groups"]));
    expect(JSON.stringify(body?.properties?.checker)).toContain('"program"');
    expect(JSON.stringify(body?.properties?.tests)).toContain('"points"');
    const result = JSON.stringify(doc.paths["/v1/runs/{id}"]?.get);
    for (const field of ["score", "maxScore", "groups", "judge", "checkerMessage", "judgeFailure"]) expect(result).toContain(`"${field}"`);
  });

  it("answers 400 for groups that depend on each other in a cycle, and for negative points", async () => {
    const tests = [{ group: "a" }, { group: "b" }];
    const cycle = await t.app.request("/v1/runs", post(python("print(1)", { tests, groups: [{ name: "a", dependsOn: ["b"] }, { name: "b", dependsOn: ["a"] }] })));
    expect(cycle.status).toBe(400);
    expect(await cycle.json()).toMatchObject({ error: { code: "invalid_request", message: expect.stringContaining("cycle") } });
    const negative = await t.app.request("/v1/runs", post(python("print(1)", { tests: [{ points: -3 }] })));
    expect(negative.status).toBe(400);
  });
});

describe("callbackUrl", () => {
  it("POSTs the RunResult to the callback, retrying after a failure", async () => {
    const received: unknown[] = [];
    const bodies: Buffer[] = [];
    let calls = 0;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        calls += 1;
        if (calls === 1) {
          response.writeHead(500).end();
          return;
        }
        bodies.push(Buffer.concat(chunks));
        received.push(JSON.parse(Buffer.concat(chunks).toString()));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const t = await testApp({}, { callback: LOOPBACK_CALLBACKS });
    try {
      const response = await t.app.request("/v1/runs?wait=true", post(python("print('hook')", { callbackUrl: `http://127.0.0.1:${port}/done` })));
      const result = runResultSchema.parse(await json(response));
      const deadline = Date.now() + 20_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls).toBe(2);
      expect(received).toEqual([result]);
      // the stored bytes, as they are
      expect(bodies[0]?.equals((await t.queue.getSerialized(result.id))?.json ?? Buffer.alloc(0))).toBe(true);
    } finally {
      await t.close();
      server.close();
    }
  });
});

/** A webhook receiver on loopback: every POSTed RunResult lands in `received`. */
async function callbackReceiver(): Promise<{ url: string; received: unknown[]; close: () => void }> {
  const received: unknown[] = [];
  const server = http.createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      received.push(JSON.parse(text));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/done`, received, close: () => server.close() };
}

describe("callbackUrl of a run cancelled while queued", () => {
  for (const mode of ["embedded", "distributed"] as const) {
    it(`${mode}: no worker will report it, so the API POSTs the cancelled RunResult`, async () => {
      const receiver = await callbackReceiver();
      const received = receiver.received;
      const redis = mode === "distributed" ? await startRedis() : undefined;
      const queue = redis === undefined ? undefined : await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `t-${randomUUID().slice(0, 8)}` }));
      // no worker: the run stays queued until it is cancelled
      const t = await testApp({}, { worker: false, callback: LOOPBACK_CALLBACKS, ...(queue === undefined ? {} : { queue, ready: () => queue.health() }) });
      try {
        const submitted = (await json(await t.app.request("/v1/runs", post(python("print(1)", { callbackUrl: receiver.url }))))) as { id: string };
        const cancelled = await json(await t.app.request(`/v1/runs/${submitted.id}`, { method: "DELETE" }));
        expect(cancelled).toMatchObject({ id: submitted.id, status: "cancelled" });
        await eventually("the webhook", () => (received.length > 0 ? true : undefined));
        expect(received).toEqual([cancelled]);
        // a second cancel changes nothing and sends nothing
        await t.app.request(`/v1/runs/${submitted.id}`, { method: "DELETE" });
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(received).toHaveLength(1);
      } finally {
        await t.close();
        await redis?.dispose();
        receiver.close();
      }
    });
  }
});

describe("callbackUrl of a run cancelled while running", () => {
  it("the cancel stores its result, so the API POSTs the cancelled RunResult, once", async () => {
    const receiver = await callbackReceiver();
    const t = await testApp({}, { callback: LOOPBACK_CALLBACKS });
    try {
      const submitted = (await json(await t.app.request("/v1/runs", post(python("import time\nprint('up', flush=True)\ntime.sleep(60)", { callbackUrl: receiver.url }))))) as { id: string };
      await eventually("the run to start", async () => ((await json(await t.app.request(`/v1/runs/${submitted.id}`))) as { status: string }).status === "running" || undefined);
      const cancelled = await json(await t.app.request(`/v1/runs/${submitted.id}`, { method: "DELETE" }));
      expect(cancelled).toMatchObject({ id: submitted.id, status: "cancelled", verdict: null });
      await eventually("the webhook", () => (receiver.received.length > 0 ? true : undefined));
      expect(receiver.received).toEqual([cancelled]);
      // the worker's own late result is not stored, and so not sent
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received).toHaveLength(1);
    } finally {
      await t.close();
      receiver.close();
    }
  });
});

describe("503 unavailable when Redis is down", () => {
  it("answers 503 on /v1/runs and recovers when Redis is back", async () => {
    const redis = await startRedis();
    const queue = await BullMqQueue.open(queueConfig({ REDIS_URL: redis.url, WARREN_QUEUE: `t-${randomUUID().slice(0, 8)}` }));
    const t = await testApp({}, { worker: false, queue, ready: () => queue.health() });
    try {
      const submitted = (await json(await t.app.request("/v1/runs", post(python("print(1)"))))) as { id: string };
      await redis.stop();
      for (const request of [t.app.request("/v1/runs", post(python("print(1)"))), t.app.request(`/v1/runs/${submitted.id}`), t.app.request("/readyz")]) {
        const response = await request;
        expect(response.status).toBe(503);
        expect(errorSchema.parse(await json(response)).error.code).toBe("unavailable");
      }
      await redis.start();
      const deadline = Date.now() + 20_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = (await t.app.request(`/v1/runs/${submitted.id}`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      expect((await t.app.request("/readyz")).status).toBe(200);
    } finally {
      await t.close();
      await redis.dispose();
    }
  });
});
