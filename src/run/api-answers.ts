import { z } from "zod";

/**
 * The API's answers besides the RunResult (result-schema.ts): for
 * /openapi.json, for checking answers in tests, and for the types of the
 * client (src/client/), which may import only this layer.
 */
export const submittedSchema = z.object({ id: z.string(), status: z.literal("queued") }).describe("A queued run");

export const languageSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  compiled: z.boolean(),
  image: z.string(),
  extensions: z.array(z.string()).describe('Extension: the file extensions (".py") by which a file is taken to be in this language, as `warren run` guesses it'),
});

export const errorSchema = z
  .object({
    error: z.object({
      code: z
        .enum([
          "invalid_request",
          "unauthorized",
          "not_found",
          "payload_too_large",
          "rate_limited",
          "unavailable",
          "internal_error",
          // Functions (docs/api-extensions.md, *Functions*).
          "function_cannot_start",
          "version_exists",
          "function_too_large",
          "function_store_full",
          "function_error",
          "function_timeout",
          "function_memory_exceeded",
          "cancelled",
        ]),
      message: z.string().describe("What went wrong, for a person"),
      details: z.unknown().describe("zod issues for invalid_request; else extra facts or null"),
    }),
  })
  .describe("Every error answer");

/** A function's version as a deploy answers and GET /v1/functions lists it (docs/api-extensions.md, *Functions*): no files, the env's names only. */
export const versionSummarySchema = z
  .object({
    name: z.string(),
    version: z.string().describe("Its label: the deploy's `version`, else its number"),
    number: z.number().int().describe("1, 2, … in deploy order; never reused, even after a delete"),
    digest: z.string().describe("sha256 of what runs (files, mode, handler, language, image), hex"),
    language: z.string(),
    languageVersion: z.string(),
    image: z.string(),
    mode: z.enum(["handler", "process"]),
    handler: z.string().nullable(),
    env: z.array(z.string()).describe("The env's names; values are never returned"),
    limits: z.record(z.string(), z.union([z.number(), z.boolean()])),
    sizes: z.object({ sourceBytes: z.number(), buildBytes: z.number(), files: z.number() }),
    createdAt: z.string(),
  })
  .describe("A function version");

export const functionListSchema = z.array(z.object({ name: z.string(), versions: z.number().int(), latest: versionSummarySchema }));

export const functionSchema = z.object({ name: z.string(), latest: z.string().describe("The latest version's label"), versions: z.array(versionSummarySchema) });

/** GET /v1/invocations/:id. */
export const invocationSchema = z
  .object({
    id: z.string(),
    function: z.string(),
    version: z.string(),
    number: z.number().int(),
    status: z.enum(["queued", "running", "cancelled", "failed", "ok", "function_error", "function_timeout", "function_memory_exceeded"]),
    body: z.string().optional().describe("The response, base64 (bodyEncoding)"),
    bodyEncoding: z.literal("base64").optional(),
    contentType: z.string().optional(),
    error: z.object({ code: z.string().optional(), type: z.string().optional(), message: z.string(), stack: z.string().nullable().optional() }).optional(),
    durationMs: z.number().optional(),
    handlerMs: z.number().optional().describe("The handler's own time, as its shim measured it around the call (X-Warren-Handler-Ms)"),
    cpuTimeMs: z.number().optional(),
    memoryKb: z.number().optional(),
    cold: z.boolean().optional(),
    worker: z.string().optional().describe("The id of the worker that ran it (X-Warren-Worker)"),
    logs: z.object({ stdout: z.string(), stderr: z.string(), truncated: z.boolean() }).optional(),
  })
  .describe("An invocation: where it is, and once finished its outcome");

/** One row of GET /v1/images (ImageInfo; docs/images.md). */
export const imageInfoSchema = z.object({
  name: z.string().describe("What `image` in a run request names"),
  digest: z.string().nullable().describe("sha256:HEX of a stored image; null for the host image"),
  description: z.string().describe("What the image is for"),
  source: z.enum(["host", "import", "build", "pull"]).describe("How it was made"),
  createdAt: z.string().nullable().describe("When it was installed (ISO 8601)"),
  sizeBytes: z.number().nullable().describe("Bytes of file content"),
  files: z.number().nullable().describe("Entries in its root filesystem"),
  languages: z.array(z.object({ id: z.string(), version: z.string() })).describe("The languages it provides"),
});
