import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FunctionJobReport, InvocationReport } from "../run/function-wire.js";
import type { RunResult } from "../run/result.js";
import type { AppEnv } from "./context.js";
import type { ErrorBody } from "./errors.js";

/** Each log stream's tail that `?logs=true` puts in X-Warren-Logs (a header: proxies and clients cap headers near 8 KiB). */
export const LOG_HEADER_BYTES = 2048;

/** How a function's fault is answered: a status of its own for each, never a bare 500 (docs/api-extensions.md, *Functions*). */
const FAULT_STATUS = { function_error: 502, function_timeout: 504, function_memory_exceeded: 502 } as const;

const errorBody = (code: string, message: string, details: unknown = null): ErrorBody => ({ error: { code, message, details } });

/** Warren's own failure (not the function's): API.md's internal_error, with Warren's code in `details.code` (e.g. sandbox_error). */
const warrenFailed = (message: string, code: string | undefined): ErrorBody => errorBody("internal_error", message, { code: code ?? "internal_error" });

/** A finished deploy job's answer: 201 and the version, or why not. */
export function deployAnswer(result: RunResult): { status: ContentfulStatusCode; body: unknown } {
  const report = result.function as FunctionJobReport | undefined;
  if (result.status === "completed" && report?.kind === "deploy") {
    if ("deployed" in report) return { status: 201, body: report.deployed };
    const { code, message, stage, output } = report.refused;
    const status: ContentfulStatusCode = code === "version_exists" ? 409 : code === "function_too_large" ? 413 : code === "function_store_full" ? 507 : 400;
    return { status, body: errorBody(code, message, stage === undefined ? null : { stage, output }) };
  }
  if (result.status === "cancelled") return { status: 409, body: errorBody("cancelled", `Deploy ${result.id} was cancelled.`) };
  return { status: 500, body: warrenFailed(`Warren failed to try the function: ${result.error?.message ?? "see the server log"}.`, result.error?.code) };
}

/** A finished invocation's HTTP answer: the handler's response with the X-Warren-* headers, or its fault in the error shape. */
export function invocationAnswer(c: Context<AppEnv>, result: RunResult): Response {
  const report = result.function as FunctionJobReport | undefined;
  c.header("x-warren-invocation-id", result.id);
  if (result.status !== "completed" || report?.kind !== "invoke" || !("invocation" in report)) {
    if (result.status === "cancelled") return c.json(errorBody("cancelled", `Invocation ${result.id} was cancelled.`), 409);
    return c.json(warrenFailed(`Warren failed to run the invocation: ${result.error?.message ?? "see the server log"}.`, result.error?.code), 500);
  }
  const invocation = report.invocation;
  c.header("x-warren-function-version", report.version ?? "");
  c.header("x-warren-duration-ms", String(invocation.durationMs));
  if (invocation.handlerMs !== undefined) c.header("x-warren-handler-ms", String(invocation.handlerMs));
  c.header("x-warren-cpu-time-ms", String(invocation.cpuTimeMs));
  c.header("x-warren-memory-kb", String(invocation.memoryKb));
  c.header("x-warren-cold", String(invocation.cold));
  if (report.worker !== undefined) c.header("x-warren-worker", report.worker);
  if (invocation.logs !== undefined) c.header("x-warren-logs", logHeader(invocation.logs));
  if (invocation.status === "ok") {
    const body = Buffer.from(invocation.body, "base64");
    return c.body(body as Uint8Array<ArrayBuffer>, 200, { "content-type": mediaTypeOf(invocation.contentType) });
  }
  if (invocation.status === "failed") {
    const error = invocation.error as { code?: string; message: string } | undefined;
    if (error?.code === "not_found") return c.json(errorBody("not_found", error.message), 404);
    return c.json(warrenFailed(`Warren failed to run the invocation: ${error?.message ?? "see the server log"}.`, error?.code), 500);
  }
  return c.json(faultBody(invocation), FAULT_STATUS[invocation.status] as ContentfulStatusCode);
}

/** A function's fault as API.md's error shape: function_error with the exception's type, message and stack; the limits with what they were. */
function faultBody(invocation: InvocationReport): ErrorBody {
  const error = invocation.error as { type?: string; message?: string; stack?: string | null } | undefined;
  if (invocation.status === "function_error") {
    return errorBody("function_error", `The function failed: ${error?.type ?? "Error"}: ${error?.message ?? ""}`.trim(), {
      type: error?.type ?? "Error",
      message: error?.message ?? "",
      stack: error?.stack ?? null,
    });
  }
  if (invocation.status === "function_timeout") return errorBody("function_timeout", `The function did not answer within its time limit (${invocation.durationMs} ms); its container was destroyed.`, { durationMs: invocation.durationMs });
  return errorBody("function_memory_exceeded", `The function ran out of memory (${invocation.memoryKb} KiB at the peak); its container was destroyed.`, { memoryKb: invocation.memoryKb });
}

/** A media type with parameters (RFC 9110 tokens, quoted values without controls), at most 256 characters. */
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"[^"\\\x00-\x1f\x7f]*"))*$/;

/**
 * The response's content type as a header may carry it. It comes from the
 * sandbox (a shim's header line, which the handler shares a process with and
 * can forge): anything but a well-formed media type is sent as bytes
 * (application/octet-stream), never as header text.
 */
export function mediaTypeOf(contentType: string): string {
  return contentType.length <= 256 && MEDIA_TYPE.test(contentType) ? contentType : "application/octet-stream";
}

/** X-Warren-Logs: base64 of {"stdout","stderr","truncated"}, each stream's last LOG_HEADER_BYTES (GET /v1/invocations/:id has them whole). */
export function logHeader(logs: NonNullable<InvocationReport["logs"]>): string {
  const tail = (text: string) => {
    const bytes = Buffer.from(text, "utf8");
    return bytes.length <= LOG_HEADER_BYTES ? { text, cut: false } : { text: bytes.subarray(bytes.length - LOG_HEADER_BYTES).toString("utf8"), cut: true };
  };
  const stdout = tail(logs.stdout);
  const stderr = tail(logs.stderr);
  return Buffer.from(JSON.stringify({ stdout: stdout.text, stderr: stderr.text, truncated: logs.truncated || stdout.cut || stderr.cut })).toString("base64");
}

/** GET /v1/invocations/:id's view of a stored invocation: where it is, and once finished its outcome (the body as base64). */
export function invocationView(result: RunResult): Record<string, unknown> {
  const report = result.function as FunctionJobReport | undefined;
  const header = { id: result.id, function: report?.name, version: report?.version, number: report?.number };
  if (!isFinalStatus(result.status)) return { ...header, status: result.status };
  if (result.status !== "completed" || report?.kind !== "invoke" || !("invocation" in report)) {
    return { ...header, status: result.status, ...(result.error === undefined ? {} : { error: result.error }) };
  }
  const { status, body, ...rest } = report.invocation;
  return { ...header, status, body, bodyEncoding: "base64", ...rest, ...(report.worker === undefined ? {} : { worker: report.worker }) };
}

function isFinalStatus(status: RunResult["status"]): boolean {
  return status === "completed" || status === "cancelled" || status === "failed";
}
