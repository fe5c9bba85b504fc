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

/** Bounds of scoring (extension: tests' `points` and `group`, the request's `groups`). */
export const SCORING_BOUNDS = Object.freeze({ groups: REQUEST_BOUNDS.tests, points: 1_000_000, nameChars: 100 });

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
    .optional().describe("Compared with stdout by the checker; absent: only the run's status counts (a program checker still runs, with an empty answer file)"),
  points: z
    .number()
    .min(0, { message: "points must not be negative" })
    .max(SCORING_BOUNDS.points, { message: `points are at most ${SCORING_BOUNDS.points}` })
    .optional()
    .describe("Extension: the test's points (scored runs, docs/api-extensions.md); default 0"),
  group: z.string().min(1).max(SCORING_BOUNDS.nameChars).optional().describe("Extension: the group (subtask) the test belongs to"),
});

/** The files of a program (the run's own, a judge program's): 1 to REQUEST_BOUNDS.files, no path repeated or below another. */
export const programFilesSchema = z
  .array(fileSchema)
  .min(1)
  .max(REQUEST_BOUNDS.files)
  .superRefine((files, ctx) => {
    const clash = clashingPath(files.map((file) => file.path));
    if (clash !== undefined) ctx.addIssue({ code: "custom", message: `file path ${JSON.stringify(clash)} repeats another file's path or lies below another file` });
  });

/** Extension: a checker program (docs/api-extensions.md, *Checker programs*). */
function programCheckerSchema(maxima: Limits) {
  return z.strictObject({
    kind: z.literal("program").describe("A problem setter's checker program, run as `checker input output answer` (testlib's order and exit codes)"),
    language: z.string().min(1).describe("The checker's language: an id or alias from GET /v1/languages"),
    version: z.string().min(1).optional().describe("A version prefix; default the newest"),
    image: z.string().min(1).optional().describe("Which installed image provides the checker's language"),
    files: programFilesSchema.describe("The checker's source files; the first is the entry point"),
    limits: limitsSchema(maxima).optional().describe("Limits of each run of the checker; default the run stage defaults"),
    compileLimits: limitsSchema(maxima).optional().describe("Limits of the checker's compile stage"),
  });
}

/** Extension: an interactor (docs/api-extensions.md, *Interactive problems*). */
function interactorSchema(maxima: Limits) {
  return z.strictObject({
    language: z.string().min(1).describe("The interactor's language: an id or alias from GET /v1/languages"),
    version: z.string().min(1).optional().describe("A version prefix; default the newest"),
    image: z.string().min(1).optional().describe("Which installed image provides the interactor's language"),
    files: programFilesSchema.describe("The interactor's source files; the first is the entry point"),
    limits: limitsSchema(maxima).optional().describe("Limits of each run of the interactor (one per test, beside the solution's); default the run stage defaults"),
    compileLimits: limitsSchema(maxima).optional().describe("Limits of the interactor's compile stage"),
    transcript: z.boolean().default(false).describe("Return each test's exchange, both ways (each capped at 64 KiB), for debugging"),
  });
}

/** The wire form of an interactor (its files still as sent). */
export type InteractorRequest = z.infer<ReturnType<typeof interactorSchema>>;

/** The wire form of a checker program (its files still as sent). */
export type ProgramCheckerRequest = z.infer<ReturnType<typeof programCheckerSchema>>;

/** `checker`: a built-in one, or (extension) a checker program. */
export function checkerSchema(maxima: Limits) {
  return z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("exact").describe("Byte for byte") }),
    z.strictObject({ kind: z.literal("lines").describe("Line by line, ignoring trailing spaces and trailing newlines") }),
    z.strictObject({ kind: z.literal("tokens").describe("Whitespace-separated tokens") }),
    z.strictObject({
      kind: z.literal("float").describe("Tokens; numbers within epsilon (absolute or relative)"),
      epsilon: z.number().positive().max(1).default(1e-6).describe("Tolerance"),
    }),
    programCheckerSchema(maxima),
  ])
  .default({ kind: "exact" })
  .describe("How a test's stdout is compared with its expectedOutput");
}

export const groupSchema = z.strictObject({
  name: z.string().min(1).max(SCORING_BOUNDS.nameChars).describe("The group's name, as tests give it in `group`"),
  points: z
    .number()
    .min(0, { message: "points must not be negative" })
    .max(SCORING_BOUNDS.points, { message: `points are at most ${SCORING_BOUNDS.points}` })
    .optional()
    .describe("The group's own points, all or nothing (IOI subtasks); absent: the sum of its tests' points"),
  dependsOn: z.array(z.string().min(1)).max(SCORING_BOUNDS.groups).default([]).describe("Groups that must all pass before this one runs; their tests must all come before this group's"),
});

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
    files: programFilesSchema.describe("Source files; the first is the entry point"),
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
    checker: checkerSchema(maxima),
    interactor: interactorSchema(maxima)
      .optional()
      .describe("Extension: an interactive problem's interactor, run beside the solution for each test, joined to it by pipes; each test's stdin is its input file (docs/api-extensions.md, *Interactive problems*)"),
    groups: z
      .array(groupSchema)
      .max(SCORING_BOUNDS.groups)
      .optional()
      .describe("Extension: the groups (subtasks) tests name in `group`, with their points and dependencies (docs/api-extensions.md, *Scored tests and subtasks*)"),
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
  })
  .superRefine((request, ctx) => {
    if (request.interactor !== undefined && request.tests === undefined) {
      ctx.addIssue({ code: "custom", message: "an interactor needs tests: each test's stdin is the interactor's input file", path: ["interactor"] });
    }
    if (request.interactor !== undefined && request.checker.kind === "program") {
      ctx.addIssue({ code: "custom", message: "an interactor judges each test itself (its exit code): a checker program cannot be given beside it", path: ["checker"] });
    }
    for (const issue of groupIssues(request.tests ?? [], request.groups ?? [])) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  });
}

/**
 * What is wrong with a request's groups, each with where: a group declared
 * twice or without tests, a dependency on a group that does not exist, a
 * dependency cycle, a dependency whose tests do not all come before the
 * dependant's first test (tests run in the request's order), and groups
 * without tests to run.
 */
export function groupIssues(
  tests: readonly { readonly group?: string | undefined; readonly points?: number | undefined }[],
  groups: readonly { readonly name: string; readonly points?: number | undefined; readonly dependsOn: readonly string[] }[],
): { message: string; path: (string | number)[] }[] {
  const issues: { message: string; path: (string | number)[] }[] = [];
  if (groups.length > 0 && tests.length === 0) issues.push({ message: "groups need tests", path: ["groups"] });
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  tests.forEach((test, index) => {
    if (test.group === undefined) return;
    if (!first.has(test.group)) first.set(test.group, index);
    last.set(test.group, index);
  });
  const declared = new Map<string, number>();
  groups.forEach((group, index) => {
    if (declared.has(group.name)) issues.push({ message: `group ${JSON.stringify(group.name)} is declared twice`, path: ["groups", index, "name"] });
    declared.set(group.name, index);
    if (tests.length > 0 && !first.has(group.name)) issues.push({ message: `group ${JSON.stringify(group.name)} has no tests (no test names it in \`group\`)`, path: ["groups", index, "name"] });
  });
  tests.forEach((test, index) => {
    const group = groups.find((candidate) => candidate.name === test.group);
    if (test.points !== undefined && group?.points !== undefined) {
      issues.push({ message: `test ${index + 1} has points, but its group ${JSON.stringify(group.name)} has points of its own (give one or the other)`, path: ["tests", index, "points"] });
    }
  });
  groups.forEach((group, index) => {
    group.dependsOn.forEach((dependency, d) => {
      const where = ["groups", index, "dependsOn", d];
      if (!declared.has(dependency) && !first.has(dependency)) issues.push({ message: `group ${JSON.stringify(group.name)} depends on ${JSON.stringify(dependency)}, which is no group`, path: where });
      else if (dependency === group.name) issues.push({ message: `group ${JSON.stringify(group.name)} depends on itself`, path: where });
    });
  });
  if (issues.length > 0) return issues;
  const cycle = dependencyCycle(groups);
  if (cycle !== undefined) return [{ message: `groups depend on each other in a cycle: ${cycle.map((name) => JSON.stringify(name)).join(" → ")}`, path: ["groups"] }];
  groups.forEach((group, index) => {
    const start = first.get(group.name);
    for (const dependency of group.dependsOn) {
      const end = last.get(dependency);
      if (start !== undefined && end !== undefined && end > start) {
        issues.push({
          message: `group ${JSON.stringify(group.name)} depends on ${JSON.stringify(dependency)}, so every test of ${JSON.stringify(dependency)} must come before the first test of ${JSON.stringify(group.name)} (test ${start + 1}); test ${end + 1} does not`,
          path: ["groups", index, "dependsOn"],
        });
      }
    }
  });
  return issues;
}

/** A cycle of dependsOn (its names, the first repeated at the end), if any. */
function dependencyCycle(groups: readonly { readonly name: string; readonly dependsOn: readonly string[] }[]): string[] | undefined {
  const edges = new Map(groups.map((group) => [group.name, group.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      const found = visit(next);
      if (found !== undefined) return found;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const group of groups) {
    const found = visit(group.name);
    if (found !== undefined) return found;
  }
  return undefined;
}

export type RunRequest = z.infer<ReturnType<typeof runRequestSchema>>;
export type RunRequestInput = z.input<ReturnType<typeof runRequestSchema>>;
