import { WarrenError } from "../errors.js";

/**
 * The server answered with API.md's error shape (`{"error": {code, message,
 * details}}`): `status` is the HTTP status, `code` the stable code to match
 * on (`invalid_request`, `not_found`, `function_error`, …).
 */
export class WarrenApiError extends WarrenError {
  readonly status: number;
  /** Seconds to wait before trying again, when the server said (429, 503 with Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  /** An invocation's id (X-Warren-Invocation-Id), on the errors of an invocation that was queued. */
  readonly invocationId: string | undefined;
  /** A failed invocation's logs, when asked for (`logs: true`; X-Warren-Logs). */
  readonly logs: { readonly stdout: string; readonly stderr: string; readonly truncated: boolean } | undefined;

  constructor(status: number, code: string, message: string, details: unknown, extra: { retryAfterSeconds?: number; invocationId?: string; logs?: WarrenApiError["logs"] } = {}) {
    super(code, message, { details });
    this.status = status;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.invocationId = extra.invocationId;
    this.logs = extra.logs;
  }
}

/** The server could not be reached (refused, reset, no such host, aborted): `url` is what was asked. */
export class WarrenConnectionError extends WarrenError {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const reason = (cause as { cause?: { message?: string } }).cause?.message ?? (cause as Error).message ?? String(cause);
    super("server_unreachable", `Cannot reach the Warren server at ${url} (${reason}).`, { cause, details: { url } });
    this.url = url;
  }
}

/**
 * The server answered something the client will not take: a body past
 * `maxResponseBytes` (`response_too_large`), or one that is not what the API
 * answers (`invalid_response`: not JSON, an error without the error shape).
 */
export class WarrenResponseError extends WarrenError {
  readonly url: string;

  constructor(code: "response_too_large" | "invalid_response", url: string, message: string) {
    super(code, message, { details: { url } });
    this.url = url;
  }
}
