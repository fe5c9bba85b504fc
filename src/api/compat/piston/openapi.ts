import { z } from "zod";
import type { Limits } from "../../../run/limits.js";

const MIB = 1024 * 1024;

/** The shapes of the Piston v2 API (docs/compat.md), for the OpenAPI document and the tests; requests are checked by pistonJob, in Piston's order and words. */
export function pistonExecuteRequestSchema(maxima: Limits) {
  const limit = (unit: string, max: number) => z.number().optional().describe(`${unit}; at most ${max}; -1: that maximum; absent or 0: Warren's stage default`);
  return z.object({
    language: z.string().describe("A runtime's language or alias (GET /api/v2/runtimes)"),
    version: z.string().describe('A semver range: "*", "3.x", "3.11.2"'),
    files: z
      .array(
        z.object({
          name: z.string().optional().describe("Path in the work dir; default the language's entry file name"),
          content: z.string(),
          encoding: z.enum(["utf8", "base64", "hex"]).optional().describe("default utf8; the first utf8 file is the entry point"),
        }),
      )
      .describe("The program's files"),
    stdin: z.string().optional().describe("A final newline is added when it has none"),
    args: z.array(z.string()).optional(),
    compile_timeout: limit("ms of wall time", maxima.wallTimeMs),
    run_timeout: limit("ms of wall time", maxima.wallTimeMs),
    compile_cpu_time: limit("ms of CPU time", maxima.cpuTimeMs),
    run_cpu_time: limit("ms of CPU time", maxima.cpuTimeMs),
    compile_memory_limit: limit("bytes", maxima.memoryMb * MIB),
    run_memory_limit: limit("bytes", maxima.memoryMb * MIB),
  });
}

export const pistonStageSchema = z.strictObject({
  stdout: z.string(),
  stderr: z.string(),
  output: z.string().describe("stdout and stderr in the order received"),
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  message: z.string().nullable(),
  status: z.enum(["RE", "SG", "TO", "OL", "EL", "XX"]).nullable(),
  cpu_time: z.number().describe("ms"),
  wall_time: z.number().describe("ms"),
  memory: z.number().describe("bytes, the stage's peak"),
});

export const pistonResultSchema = z.strictObject({
  language: z.string(),
  version: z.string(),
  run: pistonStageSchema.describe("The run stage; the compile stage when compiling failed"),
  compile: pistonStageSchema.optional().describe("Compiled languages only"),
});

export const pistonRuntimeSchema = z.strictObject({ language: z.string(), version: z.string(), aliases: z.array(z.string()), runtime: z.string().optional() });
export const pistonPackageSchema = z.strictObject({ language: z.string(), language_version: z.string(), installed: z.boolean() });
export const pistonErrorSchema = z.strictObject({ message: z.string() });

/** The OpenAPI paths of the Piston v2 API at /piston. */
export function pistonOpenApiPaths(maxima: Limits, json: (schema: z.ZodType, io?: "input" | "output") => Record<string, unknown>): Record<string, unknown> {
  const error = (description: string) => ({ description, content: json(pistonErrorSchema) });
  const common = { "401": error("An API key is needed (Authorization: Bearer)"), "429": error("Rate limited") };
  const tags = ["Piston v2 (WARREN_COMPAT=piston, docs/compat.md)"];
  return {
    "/piston/api/v2/runtimes": { get: { tags, summary: "Piston: the runtimes (the installed images' languages, Piston's names)", responses: { "200": { description: "Runtimes", content: json(z.array(pistonRuntimeSchema)) }, ...common } } },
    "/piston/api/v2/execute": {
      post: {
        tags,
        summary: "Piston: run a program and wait for its result (at most WARREN_WAIT_MS)",
        requestBody: { required: true, content: json(pistonExecuteRequestSchema(maxima), "input") },
        responses: {
          "200": { description: "The result", content: json(pistonResultSchema) },
          "400": error("Piston's messages, e.g. `python-2.x runtime is unknown`"),
          "413": error("The body is over WARREN_MAX_BODY_BYTES"),
          "500": error("Warren failed before any stage ran"),
          "504": error("The run outlasted WARREN_WAIT_MS and was cancelled"),
          ...common,
        },
      },
    },
    "/piston/api/v2/packages": {
      get: { tags, summary: "Piston: the packages, read-only (one per runtime, installed)", responses: { "200": { description: "Packages", content: json(z.array(pistonPackageSchema)) }, ...common } },
      post: { tags, summary: "Piston: install a package (refused: languages come with images)", responses: { "405": error("Read-only") } },
      delete: { tags, summary: "Piston: uninstall a package (refused)", responses: { "405": error("Read-only") } },
    },
    "/piston/api/v2/connect": {
      get: {
        tags,
        summary:
          'Piston: an interactive job (WebSocket upgrade). In: {"type":"init",…execute body}, {"type":"data","stream":"stdin","data"}, {"type":"signal","signal"}. Out: runtime, stage, data, exit, error. Closes 4999 Job Completed; 4000–4005 as Piston',
        responses: { "101": { description: "Switching Protocols" }, "404": error("Not served"), ...common },
      },
    },
  };
}
