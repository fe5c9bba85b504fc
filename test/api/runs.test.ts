import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { errorSchema, submittedSchema } from "../../src/api/answer-schemas.js";
import { eventually } from "../helpers/eventually.js";
import { post, python, testApp, type TestApp } from "./fixture.js";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t?.close();
});

const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

describe("POST /v1/runs", () => {
  it("queues a run: 202 {id, status: queued}, then GET has its result", async () => {
    const response = await t.app.request("/v1/runs", post(python("print(6 * 7)")));
    expect(response.status).toBe(202);
    const submitted = submittedSchema.strict().parse(await json(response));
    const result = await eventually("the run to finish", async () => {
      const got = await t.app.request(`/v1/runs/${submitted.id}`);
      expect(got.status).toBe(200);
      const body = runResultSchema.parse(await json(got));
      return body.status === "completed" ? body : undefined;
    });
    expect(result).toMatchObject({ id: submitted.id, verdict: "accepted", language: "python", run: { stdout: "42\n", exitCode: 0 }, compile: null, tests: null });
  });

  it("waits with ?wait=true: 200 and the RunResult", async () => {
    const response = await t.app.request("/v1/runs?wait=true", post(python("import sys; print(sys.stdin.read().upper())", { stdin: "abc" })));
    expect(response.status).toBe(200);
    const result = runResultSchema.parse(await json(response));
    expect(result).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "ABC\n" } });
  });

  it("answers with the stored JSON bytes as they are: ?wait=true, GET and DELETE of a finished run", async () => {
    // invalid UTF-8 and control characters in the output, and keepOutput: what the answer says is what was stored
    const body = python("import sys; sys.stdout.buffer.write(bytes(range(256)))", { keepOutput: "all" });
    const waited = await t.app.request("/v1/runs?wait=true", post(body));
    expect(waited.status).toBe(200);
    expect(waited.headers.get("content-type")).toMatch(/^application\/json/);
    const bytes = Buffer.from(await waited.arrayBuffer());
    const result = runResultSchema.parse(JSON.parse(bytes.toString()));
    expect(result.run?.stdout).toBe(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("utf8"));
    const stored = await t.queue.getSerialized(result.id);
    expect(stored?.json.equals(bytes)).toBe(true);
    for (const method of ["GET", "DELETE"]) {
      const again = await t.app.request(`/v1/runs/${result.id}`, { method });
      expect(again.status).toBe(200);
      expect(again.headers.get("content-type")).toMatch(/^application\/json/);
      expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    }
  });

  it("reports a user's failure as a verdict, not an error", async () => {
    const response = await t.app.request("/v1/runs?wait=true", post(python("raise SystemExit(3)")));
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: "completed", verdict: "runtime_error", run: { exitCode: 3 } });
  });

  it("judges tests with a checker and stops at the first failure when asked", async () => {
    const body = python("a, b = map(int, input().split()); print(a + b if a < 5 else a - b)", {
      tests: [
        { name: "small", stdin: "1 2\n", expectedOutput: "3\n" },
        { name: "big", stdin: "7 1\n", expectedOutput: "8\n" },
        { name: "never", stdin: "1 1\n", expectedOutput: "2\n" },
      ],
      checker: { kind: "lines" },
      stopOnFirstFailure: true,
    });
    const result = runResultSchema.parse(await json(await t.app.request("/v1/runs?wait=true", post(body))));
    expect(result.verdict).toBe("wrong_answer");
    expect(result.tests?.map((test) => [test.name, test.verdict])).toEqual([
      ["small", "accepted"],
      ["big", "wrong_answer"],
    ]);
  });

  it("answers 202 with the current RunResult when the wait runs out", async () => {
    const short = await testApp({ waitMs: 50 });
    try {
      const response = await short.app.request("/v1/runs?wait=true", post(python("import time; time.sleep(2)")));
      expect(response.status).toBe(202);
      const result = runResultSchema.parse(await json(response));
      expect(["queued", "running"]).toContain(result.status);
      expect(result.verdict).toBeNull();
    } finally {
      await short.close();
    }
  });
});

describe("GET and DELETE /v1/runs/:id", () => {
  it("404s an unknown run with the error shape", async () => {
    for (const method of ["GET", "DELETE"]) {
      const response = await t.app.request("/v1/runs/no-such-run", { method });
      expect(response.status).toBe(404);
      expect(errorSchema.parse(await json(response)).error.code).toBe("not_found");
    }
  });

  it("cancels a running run: the sandbox is killed and the status is cancelled", async () => {
    const submitted = submittedSchema.parse(await json(await t.app.request("/v1/runs", post(python("import time\nprint('started', flush=True)\ntime.sleep(30)", { limits: { wallTimeMs: 40_000, cpuTimeMs: 30_000 } })))));
    await eventually("the run to start", async () => ((await json(await t.app.request(`/v1/runs/${submitted.id}`))).status === "running" ? true : undefined));
    const response = await t.app.request(`/v1/runs/${submitted.id}`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ id: submitted.id, status: "cancelled", verdict: null });
    // The slot frees well before the 30 s sleep would end: a new run completes.
    const after = await t.app.request("/v1/runs?wait=true", post(python("print('next')")));
    expect(await json(after)).toMatchObject({ status: "completed", run: { stdout: "next\n" } });
    expect(await json(await t.app.request(`/v1/runs/${submitted.id}`))).toMatchObject({ status: "cancelled", verdict: null });
  });

  it("cancels a queued run", async () => {
    const idle = await testApp({}, { worker: false });
    try {
      const submitted = submittedSchema.parse(await json(await idle.app.request("/v1/runs", post(python("print(1)")))));
      const response = await idle.app.request(`/v1/runs/${submitted.id}`, { method: "DELETE" });
      expect(await json(response)).toMatchObject({ status: "cancelled" });
      expect(await idle.queue.depth()).toBe(0);
    } finally {
      await idle.close();
    }
  });
});

describe("invalid requests: 400 invalid_request", () => {
  const cases: [string, string | Record<string, unknown>, RegExp][] = [
    ["an unknown field", { ...python("print(1)"), colour: "red" }, /colour|Unrecognized/i],
    ["no files", { language: "python", files: [] }, /files/],
    ["a limit above the maximum", python("print(1)", { limits: { memoryMb: 1_000_000 } }), /memoryMb.*server maximum/],
    ["an unknown language", { language: "cobol", files: [{ path: "a.cob", content: "" }] }, /Unknown language "cobol"/],
    ["a path that climbs out", { language: "python", files: [{ path: "../x.py", content: "" }] }, /relative path/],
    ["a body that is not JSON", "{not json", /not valid JSON/],
    ["an unknown checker", python("print(1)", { checker: { kind: "fuzzy" } }), /checker/],
  ];
  for (const [what, body, message] of cases) {
    it(`refuses ${what}`, async () => {
      const response = await t.app.request("/v1/runs", post(body));
      expect(response.status).toBe(400);
      const error = errorSchema.parse(await json(response)).error;
      expect(error.code).toBe("invalid_request");
      expect(`${error.message} ${JSON.stringify(error.details)}`).toMatch(message);
    });
  }

  it("puts the zod issues in details", async () => {
    const response = await t.app.request("/v1/runs", post({ language: "python", files: [{ path: "main.py" }] }));
    const error = errorSchema.parse(await json(response)).error;
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: ["files", 0, "content"] })]));
  });

  it("refuses a bad wait parameter", async () => {
    const response = await t.app.request("/v1/runs?wait=maybe", post(python("print(1)")));
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ code: "invalid_request", message: expect.stringContaining("`wait`") });
  });

  it("refuses a callbackUrl that points at the API itself", async () => {
    const response = await t.app.request("http://127.0.0.1:8080/v1/runs", post(python("print(1)", { callbackUrl: "http://localhost:8080/hook" })));
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ code: "invalid_request", message: expect.stringContaining("callbackUrl") });
  });
});

describe("413 payload_too_large", () => {
  it("refuses a body over the limit", async () => {
    const small = await testApp({ bodyLimitBytes: 2048 }, { worker: false });
    try {
      const response = await small.app.request("/v1/runs", post(python(`print("${"x".repeat(4096)}")`)));
      expect(response.status).toBe(413);
      expect(errorSchema.parse(await json(response)).error).toMatchObject({ code: "payload_too_large", message: expect.stringContaining("2048 bytes") });
    } finally {
      await small.close();
    }
  });
});

describe("413 payload_too_large over HTTP (the declared Content-Length decides)", () => {
  it("refuses a body declared over the limit and takes one under it", async () => {
    const small = await testApp({ bodyLimitBytes: 2048 }, { worker: false });
    const server = serve({ fetch: small.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    try {
      await once(server, "listening");
      const { port } = server.address() as AddressInfo;
      const send = (code: string) => fetch(`http://127.0.0.1:${port}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(python(code)) });
      const big = await send(`print("${"x".repeat(4096)}")`);
      expect(big.status).toBe(413);
      expect(errorSchema.parse(await json(big)).error.code).toBe("payload_too_large");
      const fine = await send("print(1)");
      expect(fine.status).toBe(202);
      expect(submittedSchema.parse(await json(fine)).status).toBe("queued");
    } finally {
      server.close();
      await small.close();
    }
  });
});

describe("unknown endpoints", () => {
  it("404s with the error shape", async () => {
    const response = await t.app.request("/v2/nothing");
    expect(response.status).toBe(404);
    expect(errorSchema.parse(await json(response)).error.code).toBe("not_found");
  });
});
