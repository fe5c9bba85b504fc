import { describe, expect, it, vi } from "vitest";
import type { Language } from "../sandbox/images/languages.js";
import { loadImageRecipe } from "../sandbox/images/recipe.js";
import { jobSpecFromBody, parseRunRequest } from "./job-spec.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, MAX_LIMITS } from "./limits.js";
import { runRequestSchema } from "./request.js";

const languages: Language[] = loadImageRecipe("host").languages.map((language) => ({
  ...language,
  image: "host",
  version: { ...language.version, detected: language.id === "python" ? "3.11.2" : "1.0" },
}));
const context = { languages };

describe("jobSpecFromBody", () => {
  it("fills defaults, decodes files and freezes the spec", () => {
    const spec = jobSpecFromBody(
      { language: "py", files: [{ path: "main.py", content: "cHJpbnQoMSk=", encoding: "base64" }], limits: { memoryMb: 128 } },
      context,
    );
    expect(spec.language.id).toBe("python");
    expect(spec.files[0]?.content.toString()).toBe("print(1)");
    expect(spec.limits).toEqual({ ...DEFAULT_RUN_LIMITS, memoryMb: 128 });
    expect(spec.compileLimits).toEqual(DEFAULT_COMPILE_LIMITS);
    expect(spec.tests).toBeNull();
    expect(spec.checker).toEqual({ kind: "exact" });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.limits)).toBe(true);
  });

  it("names tests by index and keeps checker options", () => {
    const spec = jobSpecFromBody(
      { language: "c", files: [{ path: "main.c", content: "" }], tests: [{ stdin: "1" }, { name: "big", expectedOutput: "2\n" }], checker: { kind: "float" } },
      context,
    );
    expect(spec.tests?.map((test) => [test.name, test.stdin.toString(), test.expectedOutput])).toEqual([["1", "1", null], ["big", "", "2\n"]]);
    expect(spec.checker).toEqual({ kind: "float", epsilon: 1e-6 });
  });

  it("refuses limits above the server maxima with the field and the maximum", () => {
    expect(() => jobSpecFromBody({ language: "python", files: [{ path: "a.py", content: "" }], limits: { memoryMb: 4096 } }, context)).toThrow(
      "limits.memoryMb: memoryMb MB is above the server maximum of 2048",
    );
    expect(() => jobSpecFromBody({ language: "python", files: [{ path: "a.py", content: "" }], limits: { network: true } }, context)).toThrow(
      expect.objectContaining({ code: "invalid_request" }),
    );
  });

  it.each([
    [{ language: "python", files: [] }, "files"],
    [{ language: "python", files: [{ path: "../a.py", content: "" }] }, "files.0.path"],
    [{ language: "python", files: [{ path: "a.py", content: "!!", encoding: "base64" }] }, "files.0.content"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], surprise: 1 }, "body"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], env: { "1X": "y" } }, "env.1X"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], args: ["x".repeat(128 * 1024)] }, "args.0"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], args: Array.from({ length: 12 }, () => "x".repeat(100_000)) }, "args"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], env: { BIG: "x".repeat(128 * 1024) } }, "env.BIG"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], env: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`V${i}`, "x".repeat(100_000)])) }, "env"],
    [{ language: "python", files: [{ path: "a.py", content: "" }], checker: { kind: "regex" } }, "checker.kind"],
  ])("refuses %j at %s", (body, where) => {
    let caught: unknown;
    try {
      jobSpecFromBody(body, context);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "invalid_request" });
    expect((caught as Error).message).toContain(`${where}:`);
  });

  it("refuses unknown languages, versions and images", () => {
    const files = [{ path: "a", content: "" }];
    expect(() => jobSpecFromBody({ language: "cobol", files }, context)).toThrow(expect.objectContaining({ code: "unknown_language" }));
    expect(() => jobSpecFromBody({ language: "python", version: "2", files }, context)).toThrow("Python 2 is not installed; this server has version 3.11.2.");
    expect(jobSpecFromBody({ language: "python", version: "3.11", files }, context).language.id).toBe("python");
    expect(() => jobSpecFromBody({ language: "python", image: "gcc", files }, context)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("a request validated once in this process", () => {
  const body = { language: "python", files: [{ path: "main.py", content: "pass" }] };

  it("is not parsed again by jobSpecFromBody (the embedded worker takes the API's object), under the same maxima only", () => {
    const schema = runRequestSchema(MAX_LIMITS);
    const parse = vi.spyOn(schema, "safeParse");
    try {
      const request = parseRunRequest(structuredClone(body), MAX_LIMITS);
      expect(parse).toHaveBeenCalledTimes(1);
      expect(jobSpecFromBody(request, { languages, maxima: MAX_LIMITS }).language.id).toBe("python");
      expect(parse).toHaveBeenCalledTimes(1);
      // a body it did not parse (one that crossed Redis is a new object) is validated
      jobSpecFromBody(structuredClone(request), { languages, maxima: MAX_LIMITS });
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
    // other maxima: validated against those
    const tighter = { ...MAX_LIMITS, memoryMb: 64 };
    const request = parseRunRequest({ ...structuredClone(body), limits: { memoryMb: 128 } }, MAX_LIMITS);
    expect(() => jobSpecFromBody(request, { languages, maxima: tighter })).toThrow(/memoryMb/);
  });
});
