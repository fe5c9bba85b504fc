import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import type { FunctionFile, FunctionMode, FunctionSource, InvocationOutcome } from "./functions.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, type Limits } from "./limits.js";
import { limitsSchema, programFilesSchema, REQUEST_BOUNDS } from "./request.js";
import { selectLanguage, type LanguageEntry } from "./select-language.js";

/*
 * The functions' wire model (docs/api-extensions.md, *Functions*): the
 * deploy request, what a function job carries through the queue, and what
 * its result reports. The contract the worker implements is functions.ts.
 */

/** A function's name: what URLs carry (`/v1/functions/NAME@VERSION/invoke`), so no `@`, `/` or dots. */
export const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A version label given at deploy: never all digits (a number names the version of that number). */
export const VERSION_LABEL = /^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** `module.function` of a handler: a module path (no `..`) and an identifier. */
const HANDLER = /^[A-Za-z0-9_][A-Za-z0-9_/-]*(\.[A-Za-z0-9_-]+)*\.[A-Za-z_$][A-Za-z0-9_$]*$/;

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

const envSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "is not a valid environment variable name" }),
    z.string().refine((value) => !value.includes("\0"), { message: "contains a NUL byte" }),
  )
  .refine((env) => Object.keys(env).length <= REQUEST_BOUNDS.envVars, { message: `at most ${REQUEST_BOUNDS.envVars} variables` })
  .refine((env) => Object.entries(env).every(([key, value]) => bytes(key) + 1 + bytes(value) <= REQUEST_BOUNDS.argBytes), {
    message: `a KEY=VALUE is over ${REQUEST_BOUNDS.argBytes} bytes, the kernel's limit for one variable`,
  })
  .refine((env) => Object.entries(env).reduce((sum, [key, value]) => sum + bytes(key) + bytes(value) + 2, 0) <= REQUEST_BOUNDS.argsTotalBytes, {
    message: `at most ${REQUEST_BOUNDS.argsTotalBytes / 2 ** 20} MiB of environment in all`,
  });

const schemas = new WeakMap<Limits, ReturnType<typeof buildDeploySchema>>();

/** PUT /v1/functions/:name's body. */
export function deployRequestSchema(maxima: Limits): ReturnType<typeof buildDeploySchema> {
  let schema = schemas.get(maxima);
  if (schema === undefined) {
    schema = buildDeploySchema(maxima);
    schemas.set(maxima, schema);
  }
  return schema;
}

function buildDeploySchema(maxima: Limits) {
  return z
    .strictObject({
      language: z.string().min(1).describe("A language id or alias from GET /v1/languages"),
      languageVersion: z.string().min(1).optional().describe("A version prefix of the language; default the newest"),
      image: z.string().min(1).optional().describe("Which installed image provides the language"),
      files: programFilesSchema.describe("Source files; for mode process the first is the entry point"),
      mode: z.enum(["handler", "process"]).default("handler").describe("handler: `handler` is called with (event, context); process: the event on stdin, the response from stdout"),
      handler: z.string().regex(HANDLER, { message: "must be `module.function`, e.g. main.handler" }).optional().describe("`module.function` (mode handler), e.g. main.handler"),
      env: envSchema.default({}).describe("Extra environment of every invocation (never returned in full: GET shows the names)"),
      limits: limitsSchema(maxima).optional().describe("Limits of each invocation; its wallTimeMs is the invocation's timeout"),
      compileLimits: limitsSchema(maxima).optional().describe("Limits of the compile stage (compiled languages)"),
      version: z.string().regex(VERSION_LABEL, { message: "must be 1 to 64 letters, digits, `.`, `_` or `-`, not all digits" }).optional().describe("The version's label, unique per function; default its number"),
    })
    .superRefine((request, ctx) => {
      if (request.mode === "handler" && request.handler === undefined) ctx.addIssue({ code: "custom", message: "mode handler needs `handler` (e.g. main.handler), or give mode process", path: ["handler"] });
      if (request.mode === "process" && request.handler !== undefined) ctx.addIssue({ code: "custom", message: "mode process runs the program itself: give no handler", path: ["handler"] });
    });
}

export type DeployRequest = z.infer<ReturnType<typeof deployRequestSchema>>;

/** Validates a function's name (a 400 that says the format). */
export function checkFunctionName(name: string): string {
  if (!FUNCTION_NAME.test(name)) {
    throw new InvalidRequestError(`Function name ${JSON.stringify(name.slice(0, 80))} is not valid: 1 to 64 letters, digits, \`_\` or \`-\`, starting with a letter or digit.`, [
      { path: ["name"], message: "must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" },
    ]);
  }
  return name;
}

/** Validates a deploy body (throws InvalidRequestError with the zod issues as details). */
export function parseDeployRequest(body: unknown, maxima: Limits): DeployRequest {
  const parsed = deployRequestSchema(maxima).safeParse(body);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
    throw new InvalidRequestError(`Invalid function deploy: ${summary}`, parsed.error.issues);
  }
  return parsed.data;
}

/** The one conversion from a deploy request to the contract's FunctionSource (the language resolved among the installed images). */
export function toFunctionSource(name: string, request: DeployRequest, languages: readonly LanguageEntry[]): FunctionSource {
  const language = selectLanguage(languages, { language: request.language, version: request.languageVersion, image: request.image });
  return Object.freeze({
    name,
    language: language.id,
    languageVersion: language.version.detected,
    image: language.image,
    mode: request.mode,
    handler: request.handler ?? null,
    files: Object.freeze(request.files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, file.encoding) }))),
    env: Object.freeze({ ...request.env }),
    limits: merge(DEFAULT_RUN_LIMITS, request.limits),
    compileLimits: merge(DEFAULT_COMPILE_LIMITS, request.compileLimits),
  });
}

function merge(defaults: Limits, given: Partial<Limits> | undefined): Limits {
  const merged: Record<string, number | boolean> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) merged[key] = value;
  return Object.freeze(merged as unknown as Limits);
}

/** sha256 of what runs (files, mode, handler, language, image), hex: the content address of a version's code and build. */
export function sourceDigest(source: Pick<FunctionSource, "files" | "mode" | "handler" | "language" | "languageVersion" | "image">): string {
  const hash = createHash("sha256");
  const field = (text: string | Buffer) => {
    const value = typeof text === "string" ? Buffer.from(text, "utf8") : text;
    hash.update(`${value.length}:`);
    hash.update(value);
  };
  for (const part of [source.language, source.languageVersion, source.image, source.mode, source.handler ?? ""]) field(part);
  for (const file of [...source.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    field(file.path);
    field(file.content);
  }
  return hash.digest("hex");
}

/** Files as they cross the queue and Redis (JSON): base64. */
export interface WireFile {
  readonly path: string;
  readonly content: string;
}

export const wireFileSchema = z.strictObject({ path: z.string().min(1), content: z.base64() });

export function toWireFiles(files: readonly FunctionFile[]): WireFile[] {
  return files.map((file) => ({ path: file.path, content: file.content.toString("base64") }));
}

export function fromWireFiles(files: readonly WireFile[]): FunctionFile[] {
  return files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, "base64") }));
}

/** A FunctionSource as a deploy job carries it (files as base64). */
export const wireSourceSchema = z.strictObject({
  name: z.string().regex(FUNCTION_NAME),
  language: z.string().min(1),
  languageVersion: z.string(),
  image: z.string().min(1),
  mode: z.enum(["handler", "process"]),
  handler: z.string().nullable(),
  files: z.array(wireFileSchema).min(1),
  env: z.record(z.string(), z.string()),
  limits: z.record(z.string(), z.union([z.number(), z.boolean()])),
  compileLimits: z.record(z.string(), z.union([z.number(), z.boolean()])),
});
export type WireSource = z.infer<typeof wireSourceSchema>;

export function toWireSource(source: FunctionSource): WireSource {
  return { ...source, limits: { ...source.limits }, compileLimits: { ...source.compileLimits }, env: { ...source.env }, files: toWireFiles(source.files) };
}

export function fromWireSource(wire: WireSource): FunctionSource {
  return Object.freeze({
    ...wire,
    mode: wire.mode as FunctionMode,
    files: Object.freeze(fromWireFiles(wire.files)),
    env: Object.freeze({ ...wire.env }),
    limits: Object.freeze({ ...wire.limits }) as unknown as Limits,
    compileLimits: Object.freeze({ ...wire.compileLimits }) as unknown as Limits,
  });
}

/**
 * What a function job carries through the queue (QueuedJob.fn). `scope`: the
 * owner's namespace (the deploying key's digest, "" without API keys): each
 * key has its own function names.
 */
export const functionJobSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("deploy"), scope: z.string(), name: z.string().regex(FUNCTION_NAME), label: z.string().regex(VERSION_LABEL).optional(), source: wireSourceSchema }),
  z.strictObject({
    kind: z.literal("invoke"),
    scope: z.string(),
    name: z.string().regex(FUNCTION_NAME),
    number: z.number().int().positive(),
    version: z.string(),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    event: z.base64(),
    contentType: z.string().max(256),
    logs: z.boolean(),
    callbackUrl: z.string().optional(),
  }),
]);
export type FunctionJob = z.infer<typeof functionJobSchema>;

/** What a RunResult of a function job says of it (RunResult.function), from queued on. */
export interface FunctionJobHeader {
  readonly kind: "deploy" | "invoke";
  readonly name: string;
  /** invoke: the version it runs. */
  readonly version?: string;
  readonly number?: number;
}

export function functionJobHeader(job: FunctionJob): FunctionJobHeader {
  return job.kind === "invoke" ? { kind: "invoke", name: job.name, version: job.version, number: job.number } : { kind: "deploy", name: job.name };
}

/** A version as listed (GET /v1/functions/:name) and as a deploy answers: no files, env names only. */
export interface VersionSummary {
  readonly name: string;
  readonly version: string;
  readonly number: number;
  readonly digest: string;
  readonly language: string;
  readonly languageVersion: string;
  readonly image: string;
  readonly mode: FunctionMode;
  readonly handler: string | null;
  /** The env's names; its values are never returned. */
  readonly env: readonly string[];
  readonly limits: Limits;
  readonly sizes: { readonly sourceBytes: number; readonly buildBytes: number; readonly files: number };
  readonly createdAt: string;
}

/**
 * The name the runtime knows a function by: unique across scopes (two API
 * keys may each have a function `resize`), so that no pool is ever shared.
 * Warm routing (src/queue/warm-routes.ts) names versions by it too.
 */
export function runtimeName(scope: string, name: string): string {
  return scope === "" ? name : `${scope.slice(0, 16)}-${name}`;
}

/** An invocation's outcome as stored in its RunResult (the body as base64). */
export type InvocationReport = Omit<InvocationOutcome, "body"> & { readonly body: string };

export function invocationReport(outcome: InvocationOutcome): InvocationReport {
  return {
    status: outcome.status,
    body: outcome.body.toString("base64"),
    contentType: outcome.contentType,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    durationMs: outcome.durationMs,
    ...(outcome.handlerMs === undefined ? {} : { handlerMs: outcome.handlerMs }),
    cpuTimeMs: outcome.cpuTimeMs,
    memoryKb: outcome.memoryKb,
    cold: outcome.cold,
    ...(outcome.logs === undefined ? {} : { logs: outcome.logs }),
  };
}

/** A function job's report in its final RunResult. */
export type FunctionJobReport =
  | (FunctionJobHeader & { readonly kind: "invoke"; readonly invocation: InvocationReport; /** The id of the worker that ran it (X-Warren-Worker). */ readonly worker?: string })
  | (FunctionJobHeader & { readonly kind: "deploy"; readonly deployed: VersionSummary })
  | (FunctionJobHeader & { readonly kind: "deploy"; readonly refused: { readonly code: string; readonly message: string; readonly stage?: "compile" | "load"; readonly output?: string } });
