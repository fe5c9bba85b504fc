import type { Logger } from "pino";
import { DEFAULT_CALLBACK_POLICY, type CallbackPolicy } from "./callback-policy.js";
import { postCallback } from "./callback-request.js";
import type { SerializedResult } from "../run/result-json.js";

export interface CallbackOptions {
  /** Per attempt. @defaultValue 10 s */
  readonly timeoutMs?: number;
  /** @defaultValue 5 */
  readonly attempts?: number;
  /** First retry delay; doubles each time. @defaultValue 1 s */
  readonly backoffMs?: number;
  /** Which addresses a callback may reach (WARREN_CALLBACK_ALLOW). @defaultValue public addresses only */
  readonly policy?: CallbackPolicy;
}

/**
 * Sends a finished run's RunResult, the bytes stored, to its request's
 * `callbackUrl`, if it has one, in the background. Whoever stores a run's
 * final result calls it: the worker for a result it stored, the cancelling
 * API for a cancel it stored.
 */
export function notifyCallback(url: string | undefined, result: SerializedResult, logger: Logger, options?: CallbackOptions): void {
  if (url !== undefined) void deliverCallback(url, result, logger.child({ runId: result.id }), options);
}

/**
 * POSTs the RunResult's JSON bytes to `url` (as stored: never serialised
 * again): a 2xx answer is success; any other answer, a timeout or a network
 * error is retried with exponential backoff. Redirects are not followed
 * (they could lead anywhere). A target the policy refuses (callback-policy.ts)
 * is not retried. Never throws; resolves with whether it was delivered.
 */
export async function deliverCallback(url: string, result: SerializedResult, logger: Logger, options: CallbackOptions = {}): Promise<boolean> {
  return deliverBody(url, { id: result.id, body: result.json, method: "POST" }, logger, options);
}

/**
 * deliverCallback's delivery of any JSON body, by POST or PUT (a compatible
 * API's own callback shape: Judge0 PUTs its submission), with the same
 * retries, timeouts and address policy. Never throws.
 */
export async function deliverBody(url: string, message: { readonly id: string; readonly body: string | Buffer; readonly method: "POST" | "PUT" }, logger: Logger, options: CallbackOptions = {}): Promise<boolean> {
  const result = { id: message.id };
  const attempts = options.attempts ?? 5;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let delay = options.backoffMs ?? 1_000;
  const body = message.body;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    let problem: string;
    try {
      const status = await postCallback({
        url,
        method: message.method,
        headers: { "content-type": "application/json", "user-agent": "warren", "x-warren-run-id": result.id },
        body,
        timeoutMs,
        policy: options.policy ?? DEFAULT_CALLBACK_POLICY,
      });
      if (status >= 200 && status < 300) {
        logger.info({ runId: result.id, attempt }, "callback delivered");
        return true;
      }
      problem = `HTTP ${status}`;
    } catch (error) {
      problem = (error as Error).message;
      // The policy refused every address: asking again would only be refused again.
      if ((error as { code?: unknown }).code === "callback_target_denied") {
        logger.warn({ runId: result.id, attempt, problem }, `callback not sent: ${problem}`);
        return false;
      }
    }
    logger.warn({ runId: result.id, attempt, attempts, problem }, "callback failed");
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
  return false;
}
