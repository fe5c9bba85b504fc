/* Bad input, generated: fast-check against the in-process app (app.request,
 * no server, no worker: a valid body is only queued, never run). Every answer
 * must be a 202 for a valid run or a 4xx with API.md's error shape; never a
 * 5xx, never a throw. Runs are bounded (numRuns) so this takes seconds. */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FILE_PATH_BOUNDS } from "../../src/run/file-path.js";
import { errorSchema, submittedSchema } from "../../src/api/answer-schemas.js";
import { isValidFilePath } from "../../src/run/file-path.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { post, testApp, type TestApp } from "./fixture.js";

const RUNS = 200;
const BODY_LIMIT = 256 * 1024;
let t: TestApp;
beforeAll(async () => {
  t = await testApp({ bodyLimitBytes: BODY_LIMIT }, { worker: false });
});
afterAll(async () => {
  await t?.close();
});

const VALID = { language: "python", files: [{ path: "main.py", content: "print(1)" }] };

/** Sends `init` to `path`; checks the answer's shape; resolves with the status. */
async function answer(path: string, init: RequestInit): Promise<number> {
  const response = await t.app.request(path, init);
  const text = await response.text();
  expect(response.status, text.slice(0, 500)).toBeLessThan(500);
  if (response.status === 202) {
    submittedSchema.strict().parse(JSON.parse(text));
  } else {
    expect(response.status, text.slice(0, 500)).toBeGreaterThanOrEqual(400);
    const body = errorSchema.parse(JSON.parse(text));
    expect(body.error.message.length).toBeGreaterThan(0);
  }
  return response.status;
}

const submit = (body: unknown) => answer("/v1/runs", post(body));

/** Any string, including lone surrogates, NULs and control characters. */
const anyString = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.constantFrom("", "\0", "\ud800", "../../etc/passwd", "%00", "\u202e", "x".repeat(20_000)));

describe("POST /v1/runs under generated input", () => {
  it("any JSON value as the body: 202 or 400, never 5xx", async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
      expect([202, 400]).toContain(await submit(value));
    }), { numRuns: RUNS });
  });

  it("arbitrary bytes with a JSON content type: 400 invalid_request (or 413 past the limit)", async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
      const status = await answer("/v1/runs", { method: "POST", headers: { "content-type": "application/json" }, body: bytes });
      // a few byte strings are valid JSON, but none is a valid run
      expect(status).toBe(400);
    }), { numRuns: RUNS });
  });

  it("a valid body with any one field replaced by any value: 202 or 400", async () => {
    const fields = ["language", "version", "image", "files", "stdin", "args", "env", "limits", "compileLimits", "tests", "checker", "stopOnFirstFailure", "priority", "callbackUrl", "unknownField", "__proto__", "constructor"];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...fields), fc.oneof(fc.jsonValue({ maxDepth: 4 }), anyString), async (field, value) => {
      const body = `{${JSON.stringify("language")}:"python","files":[{"path":"main.py","content":"print(1)"}],${JSON.stringify(field)}:${JSON.stringify(value) ?? "null"}}`;
      const status = await submit(body);
      expect([202, 400]).toContain(status);
      if (["unknownField", "__proto__", "constructor"].includes(field)) expect(status).toBe(400);
    }), { numRuns: RUNS });
  });

  it("unicode and binary in every string field: 202 exactly when args and env have no NUL and the test name is 1-100 characters", async () => {
    await fc.assert(fc.asyncProperty(anyString, anyString, anyString, anyString, anyString, async (content, stdin, arg, envValue, name) => {
      const status = await submit({ ...VALID, files: [{ path: "main.py", content }], stdin, args: [arg], env: { X: envValue }, tests: [{ name, stdin, expectedOutput: content }] });
      const hasNul = arg.includes("\0") || envValue.includes("\0");
      const nameOk = name.length >= 1 && name.length <= 100;
      expect(status).toBe(!hasNul && nameOk ? 202 : 400);
    }), { numRuns: RUNS });
  });

  it("file paths built from traversal pieces: 202 exactly when the path is safe", async () => {
    const piece = fc.constantFrom("..", ".", "", "a", "main.py", "/", "\\", "\0", "é", "x".repeat(130), "%2e%2e", "~", "-rf", " ");
    await fc.assert(fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 40 }), fc.constantFrom("/", ""), async (pieces, joiner) => {
      const path = pieces.join(joiner);
      const segments = path.split("/");
      const safe = isValidFilePath(path) && segments.length <= FILE_PATH_BOUNDS.segments && segments.every((s) => Buffer.byteLength(s) <= FILE_PATH_BOUNDS.segmentBytes);
      expect(await submit({ language: "python", files: [{ path, content: "" }] })).toBe(safe ? 202 : 400);
    }), { numRuns: RUNS });
  });

  it("limits in and out of range: 202 exactly for positive integers up to the server maximum", async () => {
    const keys = ["wallTimeMs", "cpuTimeMs", "memoryMb", "processes", "outputKb", "diskMb", "openFiles"] as const;
    const value = fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.constantFrom(0, -0, 1.5, Number.MAX_SAFE_INTEGER, 1e308), fc.string(), fc.boolean(), fc.constant(null));
    await fc.assert(fc.asyncProperty(fc.constantFrom(...keys), value, fc.boolean(), async (key, raw, compile) => {
      // JSON has no NaN or Infinity: they arrive as null
      const sent: unknown = JSON.parse(JSON.stringify(raw) ?? "null");
      const ok = typeof sent === "number" && Number.isInteger(sent) && sent >= 1 && sent <= MAX_LIMITS[key];
      expect(await submit({ ...VALID, [compile ? "compileLimits" : "limits"]: { [key]: sent } })).toBe(ok ? 202 : 400);
    }), { numRuns: RUNS });
  });

  it("network: true is refused; false is fine", async () => {
    expect(await submit({ ...VALID, limits: { network: true } })).toBe(400);
    expect(await submit({ ...VALID, limits: { network: false } })).toBe(202);
  });
});

describe("POST /v1/runs with hostile shapes", () => {
  it("deeply nested JSON (100 000 levels) in any field: 400, no stack overflow", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    for (const body of [deep, `{"language":"python","files":${deep}}`, `{"language":"python","files":[{"path":"a","content":"x"}],"env":{"A":${deep}}}`, `{"x":${deep}}`]) {
      expect(await answer("/v1/runs", post(body))).toBe(400);
    }
  });

  it("a body past the limit: 413 payload_too_large", async () => {
    const response = await t.app.request("/v1/runs", post({ ...VALID, stdin: "x".repeat(BODY_LIMIT) }));
    expect(response.status).toBe(413);
    expect(errorSchema.parse(await response.json()).error.code).toBe("payload_too_large");
  });

  it("many fields, huge arrays and huge keys: 400 with the bound named", async () => {
    const cases = [
      { ...VALID, files: Array.from({ length: 101 }, (_, i) => ({ path: `f${i}`, content: "" })) },
      { ...VALID, args: Array.from({ length: 257 }, () => "a") },
      { ...VALID, env: Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`V${i}`, "x"])) },
      { ...VALID, env: { ["K".repeat(100_000)]: "v", "1BAD": "v" } },
      { ...VALID, tests: Array.from({ length: 201 }, () => ({})) },
    ];
    for (const body of cases) expect(await submit(body)).toBe(400);
  });

  it("wrong methods, content types, query values and ids: 4xx with the error shape", async () => {
    expect(await answer("/v1/runs", { method: "POST", headers: { "content-type": "text/plain" }, body: "print(1)" })).toBe(400);
    expect(await answer("/v1/runs", { method: "POST" })).toBe(400);
    expect(await answer("/v1/runs?wait=maybe", post(VALID))).toBe(400);
    expect(await answer("/v1/runs", { method: "PUT", body: "{}" })).toBe(404);
    await fc.assert(fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 }), async (id) => {
      const path = `/v1/runs/${encodeURIComponent(id)}`;
      expect(await answer(path, { method: "GET" })).toBe(404);
      expect(await answer(path, { method: "DELETE" })).toBe(404);
    }), { numRuns: 50 });
  });
});
