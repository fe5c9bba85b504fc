import os from "node:os";
import { z } from "zod";

/** `{"ready":true,"pid":N}`: a held container is up (docs/launcher.md, hold mode). */
export const readyLineSchema = z.object({
  ready: z.literal(true).describe("The container is up and serves exec requests"),
  pid: z.number().int().positive().describe("The container's init, as a pid in the caller's pid namespace"),
  degraded: z.array(z.enum(["hostname", "proc", "userns-limits"])).optional().describe("What the container was built without (docs/launcher.md, Inside a container)"),
});

/**
 * The `"degraded"` list of the last line of TEXT (a ready line, or a
 * one-shot's status line): what the container was built without, as the
 * launcher says (docs/launcher.md, *Inside a container*); empty when none.
 */
export function degradedOf(text: string): string[] {
  const line = text.split("\n").filter((entry) => entry.trim() !== "").at(-1);
  try {
    const degraded = (JSON.parse(line ?? "{}") as { degraded?: unknown }).degraded;
    return Array.isArray(degraded) ? degraded.filter((entry): entry is string => typeof entry === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The init's pid when `json` is a ready line ({"ready":true,"pid":N}), else
 * undefined. The line as warren-launch writes it is read by hand (zod costs
 * ~20 µs a line in a server that reads one a run); anything else goes to
 * readyLineSchema.
 */
export function readyPid(json: unknown): number | undefined {
  if (typeof json === "object" && json !== null) {
    const { ready, pid } = json as Record<string, unknown>;
    if (ready === true && typeof pid === "number" && Number.isSafeInteger(pid) && pid > 0) return pid;
  }
  const parsed = readyLineSchema.safeParse(json);
  return parsed.success ? parsed.data.pid : undefined;
}

/** The launcher's own failure: the program did not run, or its result is unknown. */
export const internalErrorLineSchema = z.object({
  status: z.literal("internal_error").describe("Warren itself failed"),
  step: z.string().default("unknown").describe("The set-up step that failed (docs/launcher.md, Steps)"),
  errno: z.number().int().nullable().default(null).describe("errno of the failed call, when there was one"),
  message: z.string().default("").describe("strerror or a description"),
  path: z.string().optional().describe("step execve: the file execve failed on (absent: the name was not found in PATH)"),
  interpreter: z.string().optional().describe("step execve: the interpreter that file asks for (#! or ELF PT_INTERP), when the failure can be about it"),
  scratch: z.boolean().optional().describe("step execve: the file is in the job's scratch (its work dir, /tmp, /dev/shm)"),
});

/** The status line of a finished execution. */
export const resultLineSchema = z.object({
  status: z
    .enum(["ok", "runtime_error", "time_limit_exceeded", "memory_limit_exceeded", "output_limit_exceeded"])
    .describe("The execution's status"),
  exitCode: z.number().int().nullable().describe("null when killed by a signal"),
  signal: z.union([z.string(), z.number().int()]).nullable().describe("The killing signal, by name or number"),
  cpuTimeMs: z.number().nonnegative().describe("CPU time, user + system"),
  wallTimeMs: z.number().nonnegative().describe("Wall-clock time of the program"),
  memoryKb: z.number().nonnegative().describe("Peak memory charge of the cgroup"),
  oomKilled: z.boolean().default(false).describe("The memory controller killed a process"),
  stdoutBytes: z.number().int().nonnegative().default(0).describe("Bytes the program wrote to stdout"),
  stderrBytes: z.number().int().nonnegative().default(0).describe("Bytes the program wrote to stderr"),
  outputTruncated: z.boolean().default(false).describe("The output cap was reached"),
  stdoutTruncated: z.boolean().default(false).describe("Bytes of stdout were dropped at the output cap"),
  stderrTruncated: z.boolean().default(false).describe("Bytes of stderr were dropped at the output cap"),
});

export const statusLineSchema = z.union([internalErrorLineSchema, resultLineSchema]);
export type StatusLine = z.infer<typeof statusLineSchema>;

/** Parses the last non-empty line of `text`; undefined when there is none or it is not a status. */
export function parseStatusLine(text: string): StatusLine | undefined {
  const line = text.split("\n").filter((entry) => entry.trim() !== "").at(-1);
  if (line === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const common = resultLineAsLaunched(json);
  if (common !== undefined) return common;
  const parsed = statusLineSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

const RESULT_STATUSES: ReadonlySet<unknown> = new Set(resultLineSchema.shape.status.options);
const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
const isAmount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;
const isFlag = (x: unknown): x is boolean | undefined => x === undefined || typeof x === "boolean";

/**
 * A result line exactly as warren-launch writes one (every field there, of
 * its type), built without zod: a run reads one or more, and resultLineSchema
 * costs ~20 µs a line in a server that parses a few a second (zod's parser
 * never gets hot). Anything else — an internal_error, a field missing, of
 * another type, out of range — is undefined here and goes to the schema,
 * which decides; what this returns is what the schema would.
 */
function resultLineAsLaunched(json: unknown): z.infer<typeof resultLineSchema> | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const line = json as Record<string, unknown>;
  const { status, exitCode, signal, cpuTimeMs, wallTimeMs, memoryKb } = line;
  if (!RESULT_STATUSES.has(status)) return undefined;
  if (!(exitCode === null || (typeof exitCode === "number" && Number.isSafeInteger(exitCode)))) return undefined;
  if (!(signal === null || typeof signal === "string" || (typeof signal === "number" && Number.isSafeInteger(signal)))) return undefined;
  if (!isAmount(cpuTimeMs) || !isAmount(wallTimeMs) || !isAmount(memoryKb)) return undefined;
  const { oomKilled, stdoutBytes = 0, stderrBytes = 0, outputTruncated, stdoutTruncated, stderrTruncated } = line;
  if (!isCount(stdoutBytes) || !isCount(stderrBytes)) return undefined;
  if (!isFlag(oomKilled) || !isFlag(outputTruncated) || !isFlag(stdoutTruncated) || !isFlag(stderrTruncated)) return undefined;
  return {
    status: status as z.infer<typeof resultLineSchema>["status"],
    exitCode,
    signal,
    cpuTimeMs,
    wallTimeMs,
    memoryKb,
    oomKilled: oomKilled ?? false,
    stdoutBytes,
    stderrBytes,
    outputTruncated: outputTruncated ?? false,
    stdoutTruncated: stdoutTruncated ?? false,
    stderrTruncated: stderrTruncated ?? false,
  };
}

/** A signal as its name ("SIGKILL"), whether the launcher gave a name or a number. */
export function signalName(signal: string | number | null): string | null {
  if (signal === null) return null;
  if (typeof signal === "string") return signal.startsWith("SIG") ? signal : `SIG${signal}`;
  const entry = Object.entries(os.constants.signals).find(([, number]) => number === signal);
  return entry === undefined ? `SIG${signal}` : entry[0];
}
