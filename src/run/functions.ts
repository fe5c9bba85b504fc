import type { Limits } from "./limits.js";

/*
 * The functions contract (issue 13): what the API, the queue and the worker
 * share about deployed functions and their invocations. The API validates a
 * deploy and stores its versions (src/api, src/queue); the worker builds and
 * invokes them in sandboxes (src/worker/functions/, through FunctionRuntime).
 * Nothing here runs anything.
 */

/** How a function is called: a handler of a language's shim (`main.handler`), or a process (event on stdin, response on stdout). */
export type FunctionMode = "handler" | "process";

/** One file of a function's source or build, as bytes. */
export interface FunctionFile {
  readonly path: string;
  readonly content: Buffer;
}

/** What a deploy asks for, validated and resolved (the language chosen among the installed images). */
export interface FunctionSource {
  readonly name: string;
  /** The language id and the version the image has (the same selection as a run's). */
  readonly language: string;
  readonly languageVersion: string;
  /** The installed image that provides the language. */
  readonly image: string;
  readonly mode: FunctionMode;
  /** `module.function` for mode "handler" (e.g. `main.handler`); null for mode "process". */
  readonly handler: string | null;
  readonly files: readonly FunctionFile[];
  /** Extra environment of every invocation. */
  readonly env: Readonly<Record<string, string>>;
  /** Limits of each invocation (its wall time is the invocation's timeout). */
  readonly limits: Limits;
  /** Limits of the compile stage, for compiled languages. */
  readonly compileLimits: Limits;
}

/** One immutable version of a deployed function: its source, and its build for compiled languages. */
export interface FunctionVersion extends FunctionSource {
  /** The version's label: the deploy's `version`, else its number. */
  readonly version: string;
  /** 1, 2, … in deploy order, per function. */
  readonly number: number;
  /** sha256 of the source (files, mode, handler, language, image), hex; what caches of it are keyed on. */
  readonly digest: string;
  /** The compiled program's files (what the run stage needs), for compiled languages; null otherwise. */
  readonly build: readonly FunctionFile[] | null;
  readonly createdAt: string;
  /** The digest of the deploying API key (as a run's owner), when the API has keys. */
  readonly owner?: string;
  /**
   * The name the user deployed, when `name` is the runtime's key-scoped one
   * (owned functions: their pools are keyed apart per key); what the
   * handler's `context` shows. Absent: `name`.
   */
  readonly functionName?: string;
}

/** An invocation's event: the request body and its content type. */
export interface InvocationEvent {
  readonly body: Buffer;
  readonly contentType: string;
}

/** How an invocation ended. `failed`: Warren itself failed (not the function). */
export const INVOCATION_STATUSES = ["ok", "function_error", "function_timeout", "function_memory_exceeded", "failed"] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** A handler's error (status function_error): what the shim caught, or why a process failed. */
export interface FunctionError {
  /** The exception's type (`ValueError`, `TypeError`), or `ExitCode`/`Signal` for a process. */
  readonly type: string;
  readonly message: string;
  readonly stack: string | null;
}

export interface InvocationOutcome {
  readonly status: InvocationStatus;
  /** The handler's result (JSON-encoded by the shim unless it returned bytes) or the process's stdout; empty unless `ok`. */
  readonly body: Buffer;
  readonly contentType: string;
  readonly error?: FunctionError | { readonly code: string; readonly message: string };
  /** From the event's delivery to the response. */
  readonly durationMs: number;
  /**
   * The handler's own time: its call alone, as its shim measured it (a
   * handler's invocation that reached its handler), at most `durationMs`.
   * durationMs minus it is Warren's share inside the sandbox (the event's
   * and the response's way, decoding and encoding, a zygote child's fork).
   * Said by the process the handler runs in: a report, never a limit.
   */
  readonly handlerMs?: number;
  readonly cpuTimeMs: number;
  readonly memoryKb: number;
  /** No container had been prepared for it: it paid the runtime's start and the code's load. */
  readonly cold: boolean;
  /** The invocation's own stdout/stderr (logs), capped; kept only when asked. */
  readonly logs?: { readonly stdout: string; readonly stderr: string; readonly truncated: boolean };
}

/** A deploy's trial: the build (compiled languages) and a trial load of the handler. */
export type BuildOutcome =
  | { readonly ok: true; readonly build: readonly FunctionFile[] | null }
  | { readonly ok: false; readonly stage: "compile" | "load"; readonly message: string; readonly output: string };

/**
 * What the worker does for functions (implemented in src/worker/functions/):
 * the queue's processor calls it for a deploy's trial and for each invocation.
 */
export interface FunctionRuntime {
  /** Compiles (compiled languages) and trial-loads the source: the deploy's answer. */
  build(source: FunctionSource, signal?: AbortSignal): Promise<BuildOutcome>;
  /** Runs one invocation in a fresh container (prepared ahead when the pool has one); never rejects for the function's faults. */
  invoke(fn: FunctionVersion, event: InvocationEvent, options: { readonly id: string; readonly logs: boolean; readonly signal?: AbortSignal }): Promise<InvocationOutcome>;
  /** Drops what is prepared for a function (every version, or one `number`): its deletion, or a version no longer wanted. */
  retire(name: string, number?: number): Promise<void>;
  /** The versions with prepared containers waiting now, and how many: what a distributed worker advertises for warm routing. */
  warmVersions?(): readonly { readonly name: string; readonly number: number; readonly ready: number }[];
  /** Ends every prepared container (shutdown). */
  close(): Promise<void>;
}
