import type { z } from "zod";
import type { errorSchema, functionListSchema, functionSchema, imageInfoSchema, invocationSchema, languageSchema, submittedSchema, versionSummarySchema } from "../run/api-answers.js";
import type { RunEventData, RunEventType } from "../run/event-schema.js";
import type { deployRequestSchema } from "../run/function-wire.js";
import type { runRequestSchema } from "../run/request.js";
import type { runResultSchema, stageResultSchema, testResultSchema } from "../run/result-schema.js";

/*
 * The client's types, each inferred from the schema the server parses or
 * answers with (src/run/): a field the server renames or drops breaks the
 * client's build, not its users.
 */

/** POST /v1/runs's body as a client writes it (defaults may be left out). */
export type RunRequest = z.input<ReturnType<typeof runRequestSchema>>;
export type RunResult = z.infer<typeof runResultSchema>;
export type StageResult = z.infer<typeof stageResultSchema>;
export type TestResult = z.infer<typeof testResultSchema>;
/** A queued run or invocation: `202 {id, status}`. */
export type Submitted = z.infer<typeof submittedSchema>;
export type Language = z.infer<typeof languageSchema>;
export type ImageInfo = z.infer<typeof imageInfoSchema>;
/** API.md's error shape. */
export type ErrorBody = z.infer<typeof errorSchema>;

/** PUT /v1/functions/:name's body as a client writes it. */
export type DeployRequest = z.input<ReturnType<typeof deployRequestSchema>>;
export type FunctionVersion = z.infer<typeof versionSummarySchema>;
export type FunctionListing = z.infer<typeof functionListSchema>[number];
export type FunctionDetails = z.infer<typeof functionSchema>;
export type Invocation = z.infer<typeof invocationSchema>;

/**
 * One event of a run's stream: its `type`, its number in the run's log
 * (`seq`; absent only on `result`) and its data's fields beside them — the
 * shape a session's WebSocket messages have.
 */
export type RunEvent = {
  [T in Exclude<RunEventType, "result" | "cut">]: { readonly type: T; readonly seq: number } & RunEventData<T>;
}[Exclude<RunEventType, "result" | "cut">] | { readonly type: "result"; readonly result: RunResult };

/** A job still queued or running when a bounded wait ended (202): follow it by its id. */
export interface Pending {
  readonly id: string;
  readonly status: "queued" | "running";
}

/** A sync invocation's answer (200): the function's response and the X-Warren-* headers as fields. */
export interface InvokeResponse {
  readonly invocationId: string;
  /** The version's label that ran. */
  readonly functionVersion: string;
  /** The response's content type: application/json for a value, application/octet-stream for bytes or a process's stdout. */
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly durationMs: number;
  /** The handler's own time, as its shim measured it around the call (X-Warren-Handler-Ms), when the handler ran. */
  readonly handlerMs?: number;
  readonly cpuTimeMs: number;
  readonly memoryKb: number;
  /** No container had been prepared for it. */
  readonly cold: boolean;
  /** The id of the worker that ran it (X-Warren-Worker), when the server says. */
  readonly worker?: string;
  /** With `logs: true`: each stream's last 2 KiB (GET /v1/invocations/:id has them as captured). */
  readonly logs?: InvocationLogs;
}

/** One page of GET /v1/functions: the functions, and the cursor of the next page (absent on the last). */
export interface FunctionPage {
  readonly functions: FunctionListing[];
  readonly next?: string;
}

export interface InvocationLogs {
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
}

export interface InvokeOptions {
  /** A version label or number; default the latest. */
  readonly version?: string | number;
  /** The event's content type; default application/json for a value, text/plain; charset=utf-8 for a string, application/octet-stream for bytes. */
  readonly contentType?: string;
  /** Return the invocation's logs (X-Warren-Logs). */
  readonly logs?: boolean;
  /** Where the server POSTs the invocation's RunResult when finished (async invocations). */
  readonly callbackUrl?: string;
  readonly signal?: AbortSignal;
}
