import { z } from "zod";
import { FILE_PATH_BOUNDS, isValidFilePath } from "./file-path.js";
import type { Limits } from "./limits.js";
import { KEEP_OUTPUT } from "./result.js";

/** Bounds on a request's size that are not limits of the sandbox. */
export const REQUEST_BOUNDS = Object.freeze({
  files: 100,
  tests: 200,
  args: 256,
  envVars: 128,
  /** Characters of one file's `content` (as sent: base64 is ~4/3 of the bytes). */
  fileChars: 8 * 1024 * 1024,
  /** Characters of a stdin (the run's or one test's) and of an expectedOutput. */
  stdinChars: 16 * 1024 * 1024,
  /** UTF-8 bytes of one argument or one `KEY=VALUE` (the kernel's MAX_ARG_STRLEN, less its NUL). */
  argBytes: 128 * 1024 - 1,
  /** UTF-8 bytes of all `args` together, and of all `env` together (the launcher takes 4 MiB of arguments in all). */
  argsTotalBytes: 1024 * 1024,
});

const bytes = (text: string) => Buffer.byteLength(text, "utf8");
const argString = z
  .string()
  .refine((arg) => !arg.includes("\0"), { message: "contains a NUL byte" })
  .refine((arg) => bytes(arg) <= REQUEST_BOUNDS.argBytes, { message: `is over ${REQUEST_BOUNDS.argBytes} bytes, the kernel's limit for one argument` });

const MIB = 1024 * 1024;

/** How a test's output is compared with the expected output (API.md `checker`; worker/checkers.ts does it). */
export type Checker =
  | { readonly kind: "exact" }
  | { readonly kind: "lines" }
  | { readonly kind: "tokens" }
  | { readonly kind: "float"; readonly epsilon: number };

/** Queue priorities (extension): lower runs sooner, as in BullMQ. */
export const PRIORITY_DEFAULT = 100;
export const PRIORITY_LOWEST = 1_000;

/** `limits` / `compileLimits`: every field optional; each above the server maximum is a 400. */
export function limitsSchema(maxima: Limits) {
  const bounded = (field: keyof Omit<Limits, "network" | "cpus">, unit: string) =>
    z
      .number()
      .int()
      .positive()
      .max(maxima[field], { message: `${field} ${unit} is above the server maximum of ${maxima[field]}` })
      .optional()
      .describe(`${field}: at most ${maxima[field]} ${unit}; default per stage`);
  return z
    .strictObject({
      wallTimeMs: bounded("wallTimeMs", "ms"),
      cpuTimeMs: bounded("cpuTimeMs", "ms"),
      memoryMb: bounded("memoryMb", "MB"),
      processes: bounded("processes", "processes/threads"),
      outputKb: bounded("outputKb", "KB"),
      diskMb: bounded("diskMb", "MB"),
      openFiles: bounded("openFiles", "files"),
      cpus: z
        .number()
        .min(0.01, { message: "cpus must be at least 0.01" })
        .max(maxima.cpus, { message: `cpus is above the server maximum of ${maxima.cpus}` })
        .optional()
        .describe(`cpus: CPU bandwidth, at most this many CPUs' worth of time per wall-clock period (0.01 to ${maxima.cpus}, to the hundredth); default 1`),
      network: z
        .boolean()
        .optional()
        .refine((network) => network !== true || maxima.network, { message: "network access is not available on this server" })
        .describe("Loopback only when false (the only mode for now)"),
    })
    .describe("Limits; each field optional");
}

/**
 * What the file system and the launcher's copy-in hold to, checked here so a
 * request past them is a 400 and not a failed run: a name is at most NAME_MAX
 * (255) bytes, not characters; copy-in descends at most 32 directories
 * (src/sandbox/native/mounts.c copy_tree).
 */

const withinPathBounds = (path: string): boolean => {
  const segments = path.split("/");
  return segments.length <= FILE_PATH_BOUNDS.segments && segments.every((segment) => Buffer.byteLength(segment, "utf8") <= FILE_PATH_BOUNDS.segmentBytes);
};

/** The first path that repeats another or lies below another file (which would have to be a directory), if any. */
function clashingPath(paths: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const path of [...paths].sort()) {
    const segments = path.split("/");
    for (let i = 1; i <= segments.length; i += 1) if (seen.has(segments.slice(0, i).join("/"))) return path;
    seen.add(path);
  }
  return undefined;
}

export const fileSchema = z
  .strictObject({
    path: z
      .string()
      .refine(isValidFilePath, { message: "must be a relative path without `..`, `.` or empty segments" })
      .refine(withinPathBounds, { message: `must have at most ${FILE_PATH_BOUNDS.segments} segments of at most ${FILE_PATH_BOUNDS.segmentBytes} bytes (UTF-8) each` })
      .describe("Path below the work dir; the first file is the entry point"),
    content: z
      .string()
      .max(REQUEST_BOUNDS.fileChars, { message: `a file's content is limited to ${REQUEST_BOUNDS.fileChars / MIB} MiB of text` })
      .describe("The file's content, in `encoding`"),
    encoding: z.enum(["utf8", "base64"]).default("utf8").describe("How `content` is encoded"),
  })
  .refine((file) => file.encoding !== "base64" || /^[A-Za-z0-9+/]*={0,2}$/.test(file.content.replace(/\s/g, "")), {
    message: "content is not valid base64",
    path: ["content"],
  });

export const testCaseSchema = z.strictObject({
  name: z.string().min(1).max(100).optional().describe("Test name; default its 1-based index"),
  stdin: z.string().max(REQUEST_BOUNDS.stdinChars, { message: `stdin is limited to ${REQUEST_BOUNDS.stdinChars / MIB} MiB` }).default("").describe("The program's stdin for this test"),
  expectedOutput: z
    .string()
    .max(REQUEST_BOUNDS.stdinChars, { message: `expectedOutput is limited to ${REQUEST_BOUNDS.stdinChars / MIB} MiB` })
    .optional().describe("Compared with stdout by the checker; absent: only the run's status counts"),
});

export const checkerSchema = z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("exact").describe("Byte for byte") }),
    z.strictObject({ kind: z.literal("lines").describe("Line by line, ignoring trailing spaces and trailing newlines") }),
    z.strictObject({ kind: z.literal("tokens").describe("Whitespace-separated tokens") }),
    z.strictObject({
      kind: z.literal("float").describe("Tokens; numbers within epsilon (absolute or relative)"),
      epsilon: z.number().positive().max(1).default(1e-6).describe("Tolerance"),
    }),
  ])
  .default({ kind: "exact" })
  .describe("How a test's stdout is compared with its expectedOutput");

/**
 * Built once per maxima: zod compiles a schema's parser on its first use, so
 * a schema made per request cost ~1.5 ms a request instead of ~20 µs.
 */
const runRequestSchemas = new WeakMap<Limits, ReturnType<typeof buildRunRequestSchema>>();

/** POST /v1/runs body (API.md). Unknown fields are rejected. */
export function runRequestSchema(maxima: Limits): ReturnType<typeof buildRunRequestSchema> {
  let schema = runRequestSchemas.get(maxima);
  if (schema === undefined) {
    schema = buildRunRequestSchema(maxima);
    runRequestSchemas.set(maxima, schema);
  }
  return schema;
}

function buildRunRequestSchema(maxima: Limits) {
  return z.strictObject({
    language: z.string().min(1).describe("A language id or alias from GET /v1/languages"),
    version: z.string().min(1).optional().describe("A version prefix; default the newest"),
    image: z.string().min(1).optional().describe("Which installed image provides the language"),
    files: z
      .array(fileSchema)
      .min(1)
      .max(REQUEST_BOUNDS.files)
      .superRefine((files, ctx) => {
        const clash = clashingPath(files.map((file) => file.path));
        if (clash !== undefined) ctx.addIssue({ code: "custom", message: `file path ${JSON.stringify(clash)} repeats another file's path or lies below another file` });
      })
      .describe("Source files; the first is the entry point"),
    stdin: z.string().max(REQUEST_BOUNDS.stdinChars, { message: `stdin is limited to ${REQUEST_BOUNDS.stdinChars / MIB} MiB` }).default("").describe("stdin of a plain run"),
    args: z
      .array(argString)
      .max(REQUEST_BOUNDS.args)
      .refine((args) => args.reduce((sum, arg) => sum + bytes(arg) + 1, 0) <= REQUEST_BOUNDS.argsTotalBytes, { message: `at most ${REQUEST_BOUNDS.argsTotalBytes / MIB} MiB of arguments in all` })
      .default([])
      .describe("argv after the program"),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "is not a valid environment variable name" }), argString)
      .refine((env) => Object.keys(env).length <= REQUEST_BOUNDS.envVars, { message: `at most ${REQUEST_BOUNDS.envVars} variables` })
      .refine((env) => Object.entries(env).every(([key, value]) => bytes(key) + 1 + bytes(value) <= REQUEST_BOUNDS.argBytes), {
        message: `a KEY=VALUE is over ${REQUEST_BOUNDS.argBytes} bytes, the kernel's limit for one variable`,
      })
      .refine((env) => Object.entries(env).reduce((sum, [key, value]) => sum + bytes(key) + bytes(value) + 2, 0) <= REQUEST_BOUNDS.argsTotalBytes, {
        message: `at most ${REQUEST_BOUNDS.argsTotalBytes / MIB} MiB of environment in all`,
      })
      .default({})
      .describe("Extra environment of the program"),
    limits: limitsSchema(maxima).optional().describe("Limits of the run stage(s)"),
    compileLimits: limitsSchema(maxima).optional().describe("Limits of the compile stage"),
    tests: z.array(testCaseSchema).min(1).max(REQUEST_BOUNDS.tests).optional().describe("Judge mode: compile once, run once per test"),
    checker: checkerSchema,
    stopOnFirstFailure: z.boolean().default(false).describe("Judge mode: stop after the first test that is not accepted; the rest are not run"),
    keepOutput: z
      .enum(KEEP_OUTPUT)
      .default("all")
      .describe(
        'Extension: which run stages keep their stdout/stderr in the result. "all"; "failed": only tests (and a plain run) whose verdict is not accepted; "none": no test or run output. Tests are judged on their whole stdout either way; compile output is always kept. What is dropped is reported in the stage\'s outputOmitted',
      ),
    priority: z
      .number()
      .int()
      .min(1)
      .max(PRIORITY_LOWEST)
      .default(PRIORITY_DEFAULT)
      .describe(`Queue priority: 1 runs first, ${PRIORITY_LOWEST} last; default ${PRIORITY_DEFAULT}`),
    callbackUrl: z.url({ protocol: /^https?$/ }).optional().describe("POST the RunResult here when finished"),
  });
}

export type RunRequest = z.infer<ReturnType<typeof runRequestSchema>>;
export type RunRequestInput = z.input<ReturnType<typeof runRequestSchema>>;
