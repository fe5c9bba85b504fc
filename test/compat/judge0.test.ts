// Judge0 CE's API on the embedded queue (in-process, no Redis).
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { describe, expect, it } from "vitest";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { testApp } from "../api/fixture.js";
import { judge0Routes } from "../../src/api/compat/judge0/routes.js";
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

describe("Judge0 CE API with API keys", () => {
  it("keeps each key's submissions its own: another key neither reads nor lists them", async () => {
    const keyed = await testApp({ compat: ["judge0"], apiKeys: ["alice", "bob"] });
    const as = (key: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string> | undefined), "x-auth-token": key } });
    try {
      const created = await keyed.app.request(
        "/judge0/submissions?wait=true",
        as("alice", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language_id: 71, source_code: "print('secret')" }) }),
      );
      const { token, stdout } = (await created.json()) as { token: string; stdout: string };
      expect(stdout).toBe("secret\n");
      expect((await keyed.app.request(`/judge0/submissions/${token}`, as("alice"))).status).toBe(200);
      expect((await keyed.app.request(`/judge0/submissions/${token}`, as("bob"))).status).toBe(404);
      const listed = (await (await keyed.app.request("/judge0/submissions", as("bob"))).json()) as { submissions: unknown[]; meta: { total_count: number } };
      expect(listed).toMatchObject({ submissions: [], meta: { total_count: 0 } });
      expect((await keyed.app.request(`/judge0/submissions/${token}`, as("bob", { method: "DELETE" }))).status).toBe(404);
    } finally {
      await keyed.close();
    }
  });

  it("leaves no submission behind when the queue refuses its run", async () => {
    const queue = new MemoryQueue({ ...queueConfig({ WARREN_CONCURRENCY: "1" }), pendingMaxBytes: 100 });
    const busy = await testApp({ compat: ["judge0"] }, { worker: false, queue });
    const submit = () => busy.app.request("/judge0/submissions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language_id: 71, source_code: `print(1)  # ${"x".repeat(200)}` }) });
    try {
      expect((await submit()).status).toBe(201);
      expect((await submit()).status).toBe(503);
      const listed = (await (await busy.app.request("/judge0/submissions")).json()) as { meta: { total_count: number } };
      expect(listed.meta.total_count).toBe(1);
    } finally {
      await busy.close();
    }
  });

  it("refuses number_of_runs whose copies of stdin would be over the request limit (each run carries it)", async () => {
    const small = await testApp({ compat: ["judge0"], bodyLimitBytes: 64 * 1024 }, { worker: false });
    try {
      const response = await small.app.request("/judge0/submissions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ language_id: 71, source_code: "print(1)", stdin: "x".repeat(10_000), number_of_runs: 10 }),
      });
      expect(response.status).toBe(422);
      expect(Object.keys((await response.json()) as object)).toEqual(["number_of_runs"]);
    } finally {
      await small.close();
    }
  });
});

describe("Judge0 CE API on a server with lower maxima", () => {
  it("reports and holds submissions to them: config_info's maxima are the server's, the extra CPU time is cut to fit", async () => {
    const t = await testApp({ compat: ["judge0"], maxima: { ...MAX_LIMITS, cpuTimeMs: 2_000, wallTimeMs: 4_000, memoryMb: 100, processes: 32, outputKb: 512 } });
    try {
      const config = (await (await t.app.request("/judge0/config_info")).json()) as Record<string, unknown>;
      expect(config).toMatchObject({
        cpu_time_limit: 2,
        max_cpu_time_limit: 2,
        wall_time_limit: 4,
        max_wall_time_limit: 4,
        memory_limit: 102400,
        max_memory_limit: 102400,
        max_processes_and_or_threads: 32,
        max_max_processes_and_or_threads: 32,
        max_file_size: 512,
        max_max_file_size: 512,
      });
      const submit = (body: Record<string, unknown>) => t.app.request("/judge0/submissions?wait=true", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language_id: 71, source_code: "print(1)", ...body }) });
      const over = await submit({ cpu_time_limit: 3 });
      expect(over.status).toBe(422);
      expect(await over.json()).toEqual({ cpu_time_limit: ["must be less than or equal to 2.0"] });
      const atMost = await submit({ cpu_time_limit: 2, cpu_extra_time: 5 });
      expect(atMost.status).toBe(201);
      expect(((await atMost.json()) as { status: { id: number } }).status.id).toBe(3);
    } finally {
      await t.close();
    }
  });
});

describe("Judge0 CE API in the OpenAPI document", () => {
  it("lists every Judge0 route the app serves, with its method", async () => {
    const t = await testApp({ compat: ["judge0"] }, { worker: false });
    try {
      const doc = (await (await t.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
      const served = judge0Routes(t.deps).routes.filter((route) => route.method !== "ALL");
      expect(served.length).toBeGreaterThan(15);
      for (const route of served) {
        const path = `/judge0${route.path.replace(/:(\w+)/g, "{$1}")}`;
        expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
      }
    } finally {
      await t.close();
    }
  });
});
