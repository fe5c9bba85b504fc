import { constants } from "node:os";
import { InvalidRequestError } from "../../../errors.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, type Limits } from "../../../run/limits.js";
import type { RunRequestInput } from "../../../run/request.js";
import type { RunResult, StageResult } from "../../../run/result.js";
import type { Language } from "../../../sandbox/images/languages.js";
import { findRuntime, type PistonRuntime } from "./runtimes.js";

const MIB = 1024 * 1024;

/** The per-stage limits a Piston request may set, in Piston's units (ms, bytes), in the order Piston checks them. */
const CONSTRAINTS = ["memory_limit", "timeout", "cpu_time"] as const;
const STAGES = ["compile", "run"] as const;
type Constraint = (typeof CONSTRAINTS)[number];

/** Warren's maximum of a constraint in Piston's units: what Piston calls "the configured limit". */
function configuredLimit(constraint: Constraint, maxima: Limits): number {
  switch (constraint) {
    case "memory_limit":
      return maxima.memoryMb * MIB;
    case "timeout":
      return maxima.wallTimeMs;
    case "cpu_time":
      return maxima.cpuTimeMs;
  }
}

/** A Piston request made into a Warren run request, with the runtime it resolved to. */
export interface PistonJob {
  readonly runtime: PistonRuntime<Language>;
  /** The POST /v1/runs body it stands for (validated after by parseRunRequest, as any run request). */
  readonly request: RunRequestInput;
  /** Whether the runtime has a compile stage (Piston's `compile` is present only then). */
  readonly compiled: boolean;
}

const fail = (message: string): never => {
  throw new InvalidRequestError(message);
};

/**
 * POST /api/v2/execute's body (and the connect socket's `init`) as a Warren
 * run request, checked in Piston's order with Piston's messages:
 * language, version, files, each file's content, the runtime, a utf8 file,
 * then each limit. `stdin` gets a final newline when it lacks one (Piston
 * does so). A limit of -1 means Warren's maximum, 0 or absent its default.
 */
export function pistonJob(body: unknown, runtimes: readonly PistonRuntime<Language>[], maxima: Limits, options: { readonly stdinNewline: boolean }): PistonJob {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return fail("language is required as a string");
  const fields = body as Record<string, unknown>;
  const { language, version, files, stdin, args } = fields;
  if (typeof language !== "string" || language === "") return fail("language is required as a string");
  if (typeof version !== "string" || version === "") return fail("version is required as a string");
  if (!Array.isArray(files)) return fail("files is required as an array");
  files.forEach((file: unknown, i) => {
    if (typeof file !== "object" || file === null || typeof (file as { content?: unknown }).content !== "string") fail(`files[${i}].content is required as a string`);
  });
  const runtime = findRuntime(runtimes, language, version) ?? fail(`${language}-${version} runtime is unknown`);
  const given = files as readonly { readonly name?: unknown; readonly content: string; readonly encoding?: unknown }[];
  const entryIndex = given.findIndex((file) => file.encoding === undefined || file.encoding === null || file.encoding === "utf8");
  if (entryIndex < 0) fail("files must include at least one utf8 encoded file");

  const limits: Record<"compile" | "run", { wallTimeMs?: number; cpuTimeMs?: number; memoryMb?: number }> = { compile: {}, run: {} };
  for (const constraint of CONSTRAINTS) {
    for (const stage of STAGES) {
      const name = `${stage}_${constraint}`;
      const value = fields[name];
      // Piston skips a falsy value (absent, null, 0): the default.
      if (value === undefined || value === null || value === 0 || value === false || value === "") continue;
      if (typeof value !== "number") fail(`If specified, ${name} must be a number`);
      const configured = configuredLimit(constraint, maxima);
      const number = value as number;
      if (number > configured) fail(`${name} cannot exceed the configured limit of ${configured}`);
      // -1 is "no limit" in Piston (piston-client sends it by default); Warren always has one: its maximum.
      if (number < 0 && number !== -1) fail(`${name} must be non-negative`);
      const wanted = number === -1 ? configured : number;
      if (constraint === "memory_limit") limits[stage].memoryMb = Math.max(1, Math.ceil(wanted / MIB));
      else if (constraint === "timeout") limits[stage].wallTimeMs = Math.max(1, Math.ceil(wanted));
      else limits[stage].cpuTimeMs = Math.max(1, Math.ceil(wanted));
    }
  }

  if (args !== undefined && args !== null && !(Array.isArray(args) && args.every((arg) => typeof arg === "string"))) fail("args must be an array of strings");
  if (stdin !== undefined && stdin !== null && typeof stdin !== "string") fail("stdin must be a string");
  let input = typeof stdin === "string" ? stdin : "";
  if (options.stdinNewline && !input.endsWith("\n")) input += "\n";

  // Piston runs the first utf8 file: it goes first, as Warren's entry point.
  const ordered = [entryIndex, ...given.map((_, i) => i).filter((i) => i !== entryIndex)];
  const warrenFiles = ordered.map((i) => {
    const file = given[i]!;
    const path = typeof file.name === "string" && file.name !== "" ? file.name : i === entryIndex ? entryName(runtime.warren, file.content) : `file${i}.code`;
    // Decoded as leniently as Piston (Node's Buffer.from), and handed to Warren as base64.
    if (file.encoding === "base64" || file.encoding === "hex") return { path, content: Buffer.from(file.content, file.encoding).toString("base64"), encoding: "base64" as const };
    return { path, content: file.content };
  });
  const request: RunRequestInput = {
    language: runtime.warren.id,
    version: runtime.warren.version.detected,
    image: runtime.warren.image,
    files: warrenFiles,
    stdin: input,
    args: Array.isArray(args) ? (args as string[]) : [],
    ...(Object.keys(limits.run).length > 0 ? { limits: limits.run } : {}),
    ...(Object.keys(limits.compile).length > 0 ? { compileLimits: limits.compile } : {}),
  };
  return { runtime, request, compiled: runtime.warren.compile !== null };
}

/**
 * The name of an entry file sent without one (piston-client sends none):
 * the language's conventional entry file, or for Java the file its public
 * class must be in.
 */
function entryName(language: Language, content: string): string {
  if (language.id === "java") {
    const publicClass = /\bpublic\s+(?:final\s+|abstract\s+)*class\s+([A-Za-z_$][A-Za-z0-9_$]*)/.exec(content)?.[1];
    if (publicClass !== undefined) return `${publicClass}.java`;
  }
  return language.sourceFile;
}

/** A stage as Piston reports it (its `run` and `compile`). */
export interface PistonStage {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly output: string;
  readonly memory: number;
  readonly message: string | null;
  readonly status: string | null;
  readonly cpu_time: number;
  readonly wall_time: number;
}

export interface PistonResult {
  readonly language: string;
  readonly version: string;
  readonly run: PistonStage;
  readonly compile?: PistonStage;
}

const signalNumber = (name: string): number | undefined => (constants.signals as Record<string, number | undefined>)[name];

/**
 * Piston's status of a stage (isolate's meta codes, and Piston's own OL/EL):
 * null when it exited 0; RE a non-zero exit; SG killed by a signal; TO a time
 * limit; OL/EL stdout/stderr over the output limit; XX Warren's own failure.
 * A memory kill is SG with SIGKILL, as isolate reports one, and says so in
 * `message`.
 */
export function pistonStage(stage: StageResult, output: string, cpuLimitMs: number): PistonStage {
  let status: string | null = null;
  let message: string | null = null;
  let code = stage.exitCode;
  let signal = stage.signal;
  switch (stage.status) {
    case "time_limit_exceeded":
      status = "TO";
      message = stage.cpuTimeMs >= cpuLimitMs ? "Time limit exceeded" : "Time limit exceeded (wall clock)";
      signal = "SIGKILL";
      code = null;
      break;
    case "memory_limit_exceeded":
      status = "SG";
      message = "Caught fatal signal 9 (memory limit exceeded)";
      signal = "SIGKILL";
      code = null;
      break;
    case "output_limit_exceeded": {
      const stderrOnly = stage.stderrTruncated && !stage.stdoutTruncated;
      status = stderrOnly ? "EL" : "OL";
      message = stderrOnly ? "stderr length exceeded" : "stdout length exceeded";
      signal = "SIGKILL";
      code = null;
      break;
    }
    case "internal_error":
      status = "XX";
      message = stage.error?.message ?? "Warren failed to run this stage";
      break;
    default:
      if (signal !== null) {
        status = "SG";
        message = `Caught fatal signal ${signalNumber(signal) ?? signal}`;
        code = null;
      } else if (code !== null && code !== 0) {
        status = "RE";
        message = `Exited with error status ${code}`;
      }
  }
  return {
    stdout: stage.stdout,
    stderr: stage.stderr,
    code,
    signal,
    output,
    memory: stage.memoryKb * 1024,
    message,
    status,
    cpu_time: stage.cpuTimeMs,
    wall_time: stage.wallTimeMs,
  };
}

/** Each stage's stdout and stderr in the order the program wrote them (from the run's event log), when known. */
export type Interleaved = Partial<Record<"compile" | "run", string>>;

/**
 * A finished RunResult as Piston's answer, or undefined when no stage ran
 * (Warren failed before any, or the run was cancelled). A run whose compile
 * stage failed has no run stage: `run` is then the compile stage, as Piston
 * answers (for old clients that read only `run`).
 */
export function pistonResult(result: RunResult, job: PistonJob, maxima: Limits, interleaved: Interleaved): PistonResult | undefined {
  const cpuLimit = (stage: "compile" | "run") =>
    stage === "run" ? (job.request.limits?.cpuTimeMs ?? DEFAULT_RUN_LIMITS.cpuTimeMs) : (job.request.compileLimits?.cpuTimeMs ?? DEFAULT_COMPILE_LIMITS.cpuTimeMs);
  // The log's output is used only when it is the whole of what the result kept (none of it dropped by keepOutput or the result budget).
  const outputOf = (stage: StageResult, which: "compile" | "run") => {
    const log = interleaved[which];
    return log !== undefined && log.length === stage.stdout.length + stage.stderr.length ? log : stage.stdout + stage.stderr;
  };
  const of = (stage: StageResult | null, which: "compile" | "run") =>
    stage === null ? undefined : pistonStage(stage, outputOf(stage, which), Math.min(cpuLimit(which), maxima.cpuTimeMs));
  const compile = job.compiled ? of(result.compile, "compile") : undefined;
  const run = of(result.run, "run") ?? compile;
  if (run === undefined) return undefined;
  return { language: job.runtime.language, version: job.runtime.version, run, ...(compile === undefined ? {} : { compile }) };
}
