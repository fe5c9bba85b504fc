import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { BusyError, WarrenError } from "../errors.js";

export class NotFoundError extends WarrenError {
  constructor(message: string) {
    super("not_found", message);
  }
}

export class UnauthorizedError extends WarrenError {
  constructor(message: string) {
    super("unauthorized", message);
  }
}

export class PayloadTooLargeError extends WarrenError {
  constructor(maxBytes: number) {
    super("payload_too_large", `The request body is larger than this server's limit of ${maxBytes} bytes (WARREN_MAX_BODY_BYTES).`, { details: { maxBytes } });
  }
}

export class RateLimitedError extends WarrenError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, perMinute: number) {
    super("rate_limited", `Too many requests for this API key (limit ${perMinute} per minute); retry in ${retryAfterSeconds} s.`, { details: { retryAfterSeconds, perMinute } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Error codes on the wire (API.md) and their HTTP statuses. Other Warren codes about a request are `invalid_request`. */
const STATUS: Readonly<Record<string, ContentfulStatusCode>> = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  // Functions (docs/api-extensions.md, *Functions*).
  function_cannot_start: 400,
  version_exists: 409,
  function_too_large: 413,
  function_store_full: 507,
};
const REQUEST_CODES = new Set(["unknown_language", "invalid_file_path"]);

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: unknown };
}

/** How the API answers a thrown value: its HTTP status, API.md's error body, and Retry-After when it has one; undefined for an unknown error (a bug). */
export function errorAnswer(error: unknown): { status: ContentfulStatusCode; body: ErrorBody; retryAfterSeconds?: number } | undefined {
  if (!(error instanceof WarrenError)) return undefined;
  const code = REQUEST_CODES.has(error.code) ? "invalid_request" : error.code;
  const status = STATUS[code];
  if (status === undefined) return undefined;
  const retry = error instanceof RateLimitedError || error instanceof BusyError ? { retryAfterSeconds: error.retryAfterSeconds } : {};
  return { status, body: { error: { code, message: error.message, details: error.details ?? null } }, ...retry };
}

/** The answer to an unknown error: opaque (the server log has the details). */
export const INTERNAL_ERROR_BODY: ErrorBody = { error: { code: "internal_error", message: "Warren failed to answer this request; the server log has the details.", details: null } };

/** Renders any thrown value as API.md's error shape; unknown errors are logged and answered as an opaque 500. */
export function renderError(c: Context, error: unknown, logger: Logger): Response {
  const answer = errorAnswer(error);
  if (answer !== undefined) {
    if (answer.retryAfterSeconds !== undefined) c.header("Retry-After", String(answer.retryAfterSeconds));
    if (answer.status >= 500) logger.warn({ code: answer.body.error.code, err: error }, answer.body.error.message);
    return c.json(answer.body, answer.status);
  }
  logger.error({ err: error, path: c.req.path }, "unexpected error in a request");
  return c.json(INTERNAL_ERROR_BODY, 500);
}
