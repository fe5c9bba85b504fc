import { constants } from "node:os";
import type { Limits } from "../../../run/limits.js";
import { REQUEST_BOUNDS, type RunRequestInput } from "../../../run/request.js";
import type { RunResult, StageResult } from "../../../run/result.js";
import type { Language } from "../../../sandbox/images/languages.js";
import { decode64, encode64 } from "./base64.js";
import { MAX_OPTION_CHARS, type Judge0Config } from "./config.js";
import type { ArchiveFile } from "./additional-files.js";
import { findJudge0Language, PROJECT_ID } from "./languages.js";
import { signalStatus, STATUS, statusOf, type StatusId } from "./statuses.js";

/**
 * A submission's own fields, as Judge0 keeps them, stored beside its run
 * (token = the run's id). Texts are kept as base64 of their bytes (no line
 * breaks): a base64 submission may carry bytes that are not UTF-8.
 */
export interface SubmissionRecord {
  readonly token: string;
  readonly language_id: number;
  readonly language_name: string;
  readonly source_code: string | null;
  readonly stdin: string | null;
  readonly expected_output: string | null;
  readonly compiler_options: string | null;
  readonly command_line_arguments: string | null;
  readonly number_of_runs: number;
  readonly cpu_time_limit: number;
  readonly cpu_extra_time: number;
  readonly wall_time_limit: number;
  readonly memory_limit: number;
  readonly stack_limit: number;
  readonly max_processes_and_or_threads: number;
  readonly enable_per_process_and_thread_time_limit: boolean;
  readonly enable_per_process_and_thread_memory_limit: boolean;
  readonly max_file_size: number;
  readonly redirect_stderr_to_stdout: boolean;
  readonly callback_url: string | null;
  /** The zip, as base64 (no line breaks). */
  readonly additional_files: string | null;
  readonly enable_network: boolean;
  readonly created_at: string;
  /** When the API first saw the run final (Warren's results carry no time). */
  readonly finished_at: string | null;
}

/** Judge0's 422 body: each invalid field with its messages. */
export type FieldErrors = Record<string, string[]>;

/** A Judge0 decimal as its JSON shows one (a BigDecimal's string): "5.0", "0.004". */
export function decimal(value: number): string {
  const text = String(Number(value.toFixed(3)));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/;

interface NumberRule {
  readonly field: string;
  /** Strictly greater than 0 (else at least `min`). */
  readonly positive?: boolean;
  readonly min?: number;
  readonly max: number;
  readonly fallback: number;
  readonly integer: boolean;
}

/** A numeric field as Rails' numericality validation takes it: a number or a numeric string; absent, null or "" is the default. */
function numberField(body: Record<string, unknown>, rule: NumberRule, errors: FieldErrors): number {
  const raw = body[rule.field];
  if (raw === undefined || raw === null || raw === "") return rule.fallback;
  const value = typeof raw === "number" ? raw : typeof raw === "string" && NUMERIC.test(raw) ? Number(raw) : Number.NaN;
  const show = (n: number) => (rule.integer ? String(n) : decimal(n));
  const fail = (message: string) => {
    (errors[rule.field] ??= []).push(message);
    return rule.fallback;
  };
  if (!Number.isFinite(value)) return fail("is not a number");
  if (rule.positive === true && !(value > 0)) return fail("must be greater than 0");
  if (rule.min !== undefined && value < rule.min) return fail(`must be greater than or equal to ${show(rule.min)}`);
  if (value > rule.max) return fail(`must be less than or equal to ${show(rule.max)}`);
  return rule.integer ? Math.trunc(value) : value;
}

/** A boolean field as Rails casts one: true/false, "true"/"false", 1/0; absent or null is the default. */
function booleanField(body: Record<string, unknown>, field: string, fallback: boolean, errors: FieldErrors): boolean {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (raw === true || raw === "true" || raw === 1 || raw === "1") return true;
  if (raw === false || raw === "false" || raw === 0 || raw === "0") return false;
  (errors[field] ??= []).push("is not a boolean");
  return fallback;
}

/** A text field's bytes: as sent, or decoded from base64 (leniently, as Ruby does); null when absent. */
function textField(body: Record<string, unknown>, field: string, base64: boolean, maxChars: number, errors: FieldErrors): Buffer | null {
  const raw = body[field];
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "string" && typeof raw !== "number") {
    (errors[field] ??= []).push("is not a string");
    return null;
  }
  const text = String(raw);
  if (text.length > (base64 ? Math.ceil((maxChars * 4) / 3) + maxChars / 30 : maxChars)) {
    (errors[field] ??= []).push(`is too long (maximum is ${maxChars} characters)`);
    return null;
  }
  return base64 ? decode64(text) : Buffer.from(text, "utf8");
}

/**
 * Splits command_line_arguments as the shell Judge0 runs them through would:
 * words on blanks, quotes and backslashes removed; Judge0 first drops the
 * characters `$&;<>|` and the backquote, and so does this.
 */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  const line = text.replace(/[$&;<>|`]/g, "");
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word = (word ?? "") + char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && i + 1 < line.length && '"\\'.includes(line[i + 1]!)) word = (word ?? "") + line[++i];
      else word = (word ?? "") + char;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'" || char === '"') {
      word ??= "";
      quote = char;
    } else if (char === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

export interface ParsedSubmission {
  readonly record: Omit<SubmissionRecord, "token" | "created_at" | "finished_at">;
  readonly language: Language;
  /** Language 89, Multi-file program. */
  readonly project: boolean;
  /** additional_files, decoded: a zip to unpack (readArchive) beside the source. */
  readonly archive: Buffer | null;
}

/**
 * Validates a submission as Judge0's model does (its defaults, maxima and
 * messages), with Warren's own refusals in the same shape: compiler options
 * and additional files (not supported here) and network (Warren has none).
 */
export function parseSubmission(body: unknown, options: { readonly base64: boolean; readonly installed: readonly Language[]; readonly config: Judge0Config }): ParsedSubmission | { readonly errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { errors: { submission: ["must be a JSON object"] } };
  const fields = body as Record<string, unknown>;
  const { base64, config } = options;
  const source = textField(fields, "source_code", base64, REQUEST_BOUNDS.fileChars, errors);
  const stdin = textField(fields, "stdin", base64, REQUEST_BOUNDS.stdinChars, errors);
  const expected = textField(fields, "expected_output", base64, REQUEST_BOUNDS.stdinChars, errors);
  let language: ReturnType<typeof findJudge0Language>;
  const languageId = fields.language_id;
  if (languageId === undefined || languageId === null || languageId === "") errors.language_id = ["can't be blank"];
  else {
    const id = typeof languageId === "number" ? languageId : typeof languageId === "string" && /^\s*\d+\s*$/.test(languageId) ? Number(languageId) : Number.NaN;
    language = Number.isInteger(id) ? findJudge0Language(options.installed, id) : undefined;
    if (language === undefined) errors.language_id = [`language with id ${String(languageId)} doesn't exist`];
  }
  const project = language?.project === true;
  const blank = (bytes: Buffer | null) => bytes === null || bytes.toString("utf8").trim() === "";
  if (errors.source_code === undefined) {
    // Judge0: a Multi-file program's source is its additional_files; any other language needs source_code.
    if (project && !blank(source)) errors.source_code = ["must be blank"];
    if (!project && blank(source)) errors.source_code = ["can't be blank"];
  }
  const number_of_runs = numberField(fields, { field: "number_of_runs", positive: true, max: config.max_number_of_runs, fallback: config.number_of_runs, integer: true }, errors);
  const cpu_time_limit = numberField(fields, { field: "cpu_time_limit", min: 0, max: config.max_cpu_time_limit, fallback: config.cpu_time_limit, integer: false }, errors);
  const cpu_extra_time = numberField(fields, { field: "cpu_extra_time", min: 0, max: config.max_cpu_extra_time, fallback: config.cpu_extra_time, integer: false }, errors);
  const wall_time_limit = numberField(fields, { field: "wall_time_limit", min: 1, max: config.max_wall_time_limit, fallback: config.wall_time_limit, integer: false }, errors);
  const memory_limit = numberField(fields, { field: "memory_limit", min: 2048, max: config.max_memory_limit, fallback: config.memory_limit, integer: true }, errors);
  const stack_limit = numberField(fields, { field: "stack_limit", min: 0, max: config.max_stack_limit, fallback: config.stack_limit, integer: true }, errors);
  const max_processes_and_or_threads = numberField(
    fields,
    { field: "max_processes_and_or_threads", positive: true, max: config.max_max_processes_and_or_threads, fallback: config.max_processes_and_or_threads, integer: true },
    errors,
  );
  const max_file_size = numberField(fields, { field: "max_file_size", min: 0, max: config.max_max_file_size, fallback: config.max_file_size, integer: true }, errors);
  const perProcessTime = booleanField(fields, "enable_per_process_and_thread_time_limit", false, errors);
  const perProcessMemory = booleanField(fields, "enable_per_process_and_thread_memory_limit", false, errors);
  const redirect = booleanField(fields, "redirect_stderr_to_stdout", false, errors);
  const network = booleanField(fields, "enable_network", false, errors);
  if (network) (errors.enable_network ??= []).push("enabling network is not allowed (Warren's sandboxes have no network)");
  const optionText = (field: string): string | null => {
    const raw = fields[field];
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== "string") {
      (errors[field] ??= []).push("is not a string");
      return null;
    }
    if (raw.length > MAX_OPTION_CHARS) (errors[field] ??= []).push(`is too long (maximum is ${MAX_OPTION_CHARS} characters)`);
    return raw;
  };
  const compilerOptions = optionText("compiler_options");
  if (compilerOptions !== null && compilerOptions.trim() !== "" && errors.compiler_options === undefined) {
    (errors.compiler_options ??= []).push(
      language !== undefined && language.language.compile === null ? "setting compiler options is only allowed for compiled languages" : "setting compiler options is not allowed",
    );
  }
  const commandLine = optionText("command_line_arguments");
  const callback = fields.callback_url;
  let callbackUrl: string | null = null;
  if (callback !== undefined && callback !== null && callback !== "") {
    if (typeof callback !== "string" || !URL.canParse(callback) || !/^https?:$/.test(new URL(callback).protocol)) (errors.callback_url ??= []).push("is not a valid http or https URL");
    else callbackUrl = callback;
  }
  // Base64 whatever base64_encoded says (Judge0 decodes it always); its size is bounded by the request body's.
  const files = fields.additional_files;
  let archive: Buffer | null = null;
  if (files !== undefined && files !== null && files !== "") {
    if (typeof files !== "string") (errors.additional_files ??= []).push("is not a string");
    else archive = decode64(files);
  }
  if (project && (archive === null || archive.length === 0) && errors.additional_files === undefined) errors.additional_files = ["can't be blank"];
  if (Object.keys(errors).length > 0 || language === undefined) return { errors };
  const text64 = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString("base64"));
  return {
    language: language.language,
    project,
    archive,
    record: {
      language_id: language.id,
      language_name: language.name,
      source_code: text64(source),
      stdin: text64(stdin),
      expected_output: text64(expected),
      compiler_options: compilerOptions,
      command_line_arguments: commandLine,
      number_of_runs,
      cpu_time_limit,
      cpu_extra_time,
      wall_time_limit,
      memory_limit,
      stack_limit,
      max_processes_and_or_threads,
      enable_per_process_and_thread_time_limit: perProcessTime,
      enable_per_process_and_thread_memory_limit: perProcessMemory,
      max_file_size,
      redirect_stderr_to_stdout: redirect,
      callback_url: callbackUrl,
      additional_files: archive === null ? null : archive.toString("base64"),
      enable_network: network,
    },
  };
}

/** The entry file of a Multi-file program: its own name, which no archive file takes. */
export const PROJECT_ENTRY = ".judge0-project.sh";

/** The line a Multi-file program's entry writes to stderr before its compile script's output, and the one after. */
function compileMarkers(token: string): { readonly start: string; readonly end: string } {
  return { start: `<judge0-compile ${token}>\n`, end: `</judge0-compile ${token}>\n` };
}

/**
 * A Multi-file program's entry, run by Bash: the archive's compile script
 * (compile.sh or compile; Judge0's names), if any, once per run, its output
 * between markers on stderr (its exit status after the end marker), a failed
 * compile ending there; then its run script (run.sh or run). Judge0 runs the
 * two in separate isolate boxes' steps; here they share the run's limits.
 */
function projectEntry(token: string): string {
  const { start, end } = compileMarkers(token);
  const line = (text: string) => JSON.stringify(text.replace(/\n$/, ""));
  return [
    "for script in compile.sh compile; do",
    '  [ -f "$script" ] || continue',
    `  printf '%s\\n' ${line(start)} >&2`,
    '  bash "$script" < /dev/null 1>&2',
    "  status=$?",
    `  printf '%s\\n%s\\n' ${line(end)} "$status" >&2`,
    '  [ "$status" -eq 0 ] || exit 1',
    "  break",
    "done",
    "for script in run.sh run; do",
    '  [ -f "$script" ] && exec bash "$script"',
    "done",
    "echo 'Multi-file program: additional_files has no run script (run or run.sh)' >&2",
    "exit 1",
    "",
  ].join("\n");
}

/** A Multi-file program's stderr, split: its compile script's output and status (when it had one), and the rest. */
function splitCompile(token: string, stderr: string): { compile: { output: string; status: number } | null; stderr: string } {
  const { start, end } = compileMarkers(token);
  if (!stderr.startsWith(start)) return { compile: null, stderr };
  const close = stderr.indexOf(end, start.length);
  if (close < 0) return { compile: { output: stderr.slice(start.length), status: 1 }, stderr: "" };
  const after = stderr.slice(close + end.length);
  const newline = after.indexOf("\n");
  return { compile: { output: stderr.slice(start.length, close), status: Number(after.slice(0, newline)) }, stderr: after.slice(newline + 1) };
}

/**
 * The Warren run of a submission: its source as the language's entry file,
 * the run repeated number_of_runs times (compiled once) as tests that stop
 * at the first failure, and Judge0's limits in Warren's units — the CPU
 * limit with its extra time (Judge0 kills at limit + extra and reports a
 * time over the limit as Time Limit Exceeded; so does renderSubmission),
 * max_file_size as the output limit (Judge0's stdout is a file of that
 * limit). stack_limit and the per-process flags are kept, not enforced: a
 * Warren sandbox's limits hold for its whole process tree.
 */
export function runRequestOf(parsed: ParsedSubmission, token: string, archive: readonly ArchiveFile[], maxima: Limits): RunRequestInput {
  const { record, language } = parsed;
  const stdin = Buffer.from(record.stdin ?? "", "base64").toString("utf8");
  const entry = parsed.project ? { path: PROJECT_ENTRY, content: Buffer.from(projectEntry(token)).toString("base64") } : { path: language.sourceFile, content: record.source_code ?? "" };
  // As Judge0's `unzip -n`: a file already there (the source, an earlier entry of the same name) is kept.
  const taken = new Set([entry.path]);
  const extra = archive.filter((file) => !taken.has(file.path) && taken.add(file.path) !== undefined);
  return {
    language: language.id,
    image: language.image,
    version: language.version.detected,
    files: [{ ...entry, encoding: "base64" }, ...extra.map((file) => ({ path: file.path, content: file.content.toString("base64"), encoding: "base64" as const }))],
    args: splitArguments(record.command_line_arguments ?? ""),
    limits: {
      // The limit itself is within the server's maximum (config_info); the extra time is cut to fit it.
      cpuTimeMs: Math.min(maxima.cpuTimeMs, Math.max(1, Math.ceil((record.cpu_time_limit + record.cpu_extra_time) * 1000))),
      wallTimeMs: Math.max(1, Math.ceil(record.wall_time_limit * 1000)),
      memoryMb: Math.max(1, Math.ceil(record.memory_limit / 1024)),
      processes: record.max_processes_and_or_threads,
      outputKb: Math.max(1, record.max_file_size),
    },
    tests: Array.from({ length: record.number_of_runs }, () => ({ stdin })),
    stopOnFirstFailure: true,
  };
}

/** What a finished (or pending) run says in Judge0's result fields. */
interface Outcome {
  readonly status: StatusId;
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly compile_output: string | null;
  readonly message: string | null;
  readonly time: number | null;
  readonly wall_time: number | null;
  readonly memory: number | null;
  readonly exit_code: number | null;
  readonly exit_signal: number | null;
}

const NOTHING = { stdout: null, stderr: null, compile_output: null, message: null, time: null, wall_time: null, memory: null, exit_code: null, exit_signal: null } as const;
const orNull = (text: string) => (text === "" ? null : text);

/** Judge0's comparison of outputs: each line's trailing blanks and the trailing blank lines ignored (isolate_job.rb `strip`: Ruby's rstrip, ASCII blanks and NUL only). */
export function judge0Strip(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/[ \t\n\v\f\r\0]+$/, ""))
    .join("\n")
    .replace(/[ \t\n\v\f\r\0]+$/, "");
}

const EXEC_ERRNOS = new Set([constants.errno.ENOEXEC, constants.errno.ENOENT, constants.errno.EACCES]);

function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number>)[name];
}

/** One run's status and message, as Judge0's isolate_job `determine_status` would give them. */
function runStatus(stage: StageResult, record: SubmissionRecord): { status: StatusId; message: string | null; signal: number | null } {
  switch (stage.status) {
    case "time_limit_exceeded":
      return { status: STATUS.timeLimit, message: stage.cpuTimeMs >= record.cpu_time_limit * 1000 ? "Time limit exceeded" : "Time limit exceeded (wall clock)", signal: null };
    case "memory_limit_exceeded":
      // Judge0 has no status of its own for it (isolate's SIGKILL is "Other"); the message says what happened.
      return { status: STATUS.other, message: "Memory limit exceeded", signal: signalNumber(stage.signal ?? "SIGKILL") ?? 9 };
    case "output_limit_exceeded":
      // Judge0's stdout is a file limited by max_file_size: writing past it is SIGXFSZ.
      return { status: STATUS.sigxfsz, message: "Output limit exceeded (max_file_size)", signal: signalNumber("SIGXFSZ") ?? 25 };
    case "internal_error": {
      const error = stage.error;
      const exec = error?.step === "execve" && error.errno !== null && EXEC_ERRNOS.has(error.errno);
      return { status: exec ? STATUS.execFormat : STATUS.internal, message: error?.message ?? "Internal error", signal: null };
    }
    case "ok":
    case "runtime_error": {
      if (stage.signal !== null) {
        const signal = signalNumber(stage.signal) ?? 0;
        return { status: signalStatus(signal), message: `Caught fatal signal ${signal}`, signal };
      }
      if (stage.exitCode !== null && stage.exitCode !== 0) return { status: STATUS.nzec, message: `Exited with error status ${stage.exitCode}`, signal: null };
      if (stage.cpuTimeMs > record.cpu_time_limit * 1000) return { status: STATUS.timeLimit, message: "Time limit exceeded", signal: null };
      if (record.expected_output === null) return { status: STATUS.accepted, message: null, signal: null };
      const expected = Buffer.from(record.expected_output, "base64").toString("utf8");
      return { status: judge0Strip(expected) === judge0Strip(stage.stdout) ? STATUS.accepted : STATUS.wrongAnswer, message: null, signal: null };
    }
  }
}

/** A submission's result fields from its run's result. */
export function outcomeOf(record: SubmissionRecord, result: RunResult | undefined): Outcome {
  if (result === undefined || result.status === "queued") return { status: STATUS.queue, ...NOTHING };
  if (result.status === "running") return { status: STATUS.process, ...NOTHING };
  if (result.status === "cancelled") return { status: STATUS.internal, ...NOTHING, message: "The run was cancelled." };
  const compile = result.compile;
  const compileOutput = compile === null ? null : orNull(compile.stdout + compile.stderr);
  if (result.verdict === "compile_error" && compile !== null) {
    return { status: STATUS.compileError, ...NOTHING, compile_output: compile.status === "time_limit_exceeded" ? "Compilation time limit exceeded." : compileOutput };
  }
  const runs = result.tests ?? (result.run === null ? [] : [result.run]);
  if (runs.length === 0) return { status: STATUS.internal, ...NOTHING, compile_output: compileOutput, message: result.error?.message ?? compile?.error?.message ?? "Internal error" };
  const times: number[] = [];
  const memories: number[] = [];
  let last: { stage: StageResult; status: ReturnType<typeof runStatus> } | undefined;
  for (const stage of runs) {
    const status = runStatus(stage, record);
    times.push(stage.cpuTimeMs / 1000);
    memories.push(stage.memoryKb);
    last = { stage, status };
    if (status.status !== STATUS.accepted) break;
  }
  const { stage, status } = last!;
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  let stderr = stage.stderr;
  let compiled = compileOutput;
  if (record.language_id === PROJECT_ID) {
    const split = splitCompile(record.token, stage.stderr);
    stderr = split.stderr;
    if (split.compile !== null) {
      compiled = orNull(split.compile.output);
      if (split.compile.status !== 0) return { status: STATUS.compileError, ...NOTHING, compile_output: compiled };
    }
  }
  const stdout = record.redirect_stderr_to_stdout ? stage.stdout + stderr : stage.stdout;
  return {
    status: status.status,
    stdout: orNull(stdout),
    stderr: record.redirect_stderr_to_stdout ? null : orNull(stderr),
    compile_output: compiled,
    message: status.message,
    time: mean(times),
    wall_time: stage.wallTimeMs / 1000,
    memory: Math.trunc(mean(memories)),
    exit_code: stage.exitCode ?? 0,
    exit_signal: status.signal,
  };
}

/** Every field of a submission, in Judge0's order (its table's columns, then `status` and `language`). */
export const ALL_FIELDS = [
  "source_code",
  "language_id",
  "stdin",
  "expected_output",
  "stdout",
  "status_id",
  "created_at",
  "finished_at",
  "time",
  "memory",
  "stderr",
  "token",
  "number_of_runs",
  "cpu_time_limit",
  "cpu_extra_time",
  "wall_time_limit",
  "memory_limit",
  "stack_limit",
  "max_processes_and_or_threads",
  "enable_per_process_and_thread_time_limit",
  "enable_per_process_and_thread_memory_limit",
  "max_file_size",
  "compile_output",
  "exit_code",
  "exit_signal",
  "message",
  "wall_time",
  "compiler_options",
  "command_line_arguments",
  "redirect_stderr_to_stdout",
  "callback_url",
  "additional_files",
  "enable_network",
  "status",
  "language",
] as const;
export type Field = (typeof ALL_FIELDS)[number];

/** The fields Judge0 answers when none are asked for. */
export const DEFAULT_FIELDS: readonly Field[] = ["token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"];

/** `?fields=`: absent or empty → the defaults, `*` → all; else the names asked, or the ones that are no field. */
export function parseFields(param: string | undefined): { fields: readonly Field[] } | { invalid: string[] } {
  if (param === undefined || param.trim() === "") return { fields: DEFAULT_FIELDS };
  const names = param.split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names.includes("*")) return { fields: ALL_FIELDS };
  const invalid = names.filter((name) => !(ALL_FIELDS as readonly string[]).includes(name));
  if (invalid.length > 0) return { invalid };
  return { fields: ALL_FIELDS.filter((field) => names.includes(field)) };
}

/** A submission as Judge0's serializer shows it: FIELDS only, texts in base64 (60-column lines) when asked. */
export function renderSubmission(record: SubmissionRecord, result: RunResult | undefined, options: { readonly base64: boolean; readonly fields: readonly Field[] }): Record<string, unknown> {
  const outcome = outcomeOf(record, result);
  const stored = (text: string | null) => {
    if (text === null) return null;
    const bytes = Buffer.from(text, "base64");
    return options.base64 ? encode64(bytes) : bytes.toString("utf8");
  };
  const shown = (text: string | null) => (text === null ? null : options.base64 ? encode64(text) : text);
  const all: Record<Field, unknown> = {
    source_code: stored(record.source_code),
    language_id: record.language_id,
    stdin: stored(record.stdin),
    expected_output: stored(record.expected_output),
    stdout: shown(outcome.stdout),
    status_id: outcome.status,
    created_at: record.created_at,
    finished_at: record.finished_at,
    time: outcome.time === null ? null : decimal(outcome.time),
    memory: outcome.memory,
    stderr: shown(outcome.stderr),
    token: record.token,
    number_of_runs: record.number_of_runs,
    cpu_time_limit: decimal(record.cpu_time_limit),
    cpu_extra_time: decimal(record.cpu_extra_time),
    wall_time_limit: decimal(record.wall_time_limit),
    memory_limit: record.memory_limit,
    stack_limit: record.stack_limit,
    max_processes_and_or_threads: record.max_processes_and_or_threads,
    enable_per_process_and_thread_time_limit: record.enable_per_process_and_thread_time_limit,
    enable_per_process_and_thread_memory_limit: record.enable_per_process_and_thread_memory_limit,
    max_file_size: record.max_file_size,
    compile_output: shown(outcome.compile_output),
    exit_code: outcome.exit_code,
    exit_signal: outcome.exit_signal,
    message: shown(outcome.message),
    wall_time: outcome.wall_time === null ? null : decimal(outcome.wall_time),
    compiler_options: record.compiler_options,
    command_line_arguments: record.command_line_arguments,
    redirect_stderr_to_stdout: record.redirect_stderr_to_stdout,
    callback_url: record.callback_url,
    additional_files: record.additional_files === null ? null : encode64(Buffer.from(record.additional_files, "base64")),
    enable_network: record.enable_network,
    status: statusOf(outcome.status),
    language: { id: record.language_id, name: record.language_name },
  };
  return Object.fromEntries(options.fields.map((field) => [field, all[field]]));
}
