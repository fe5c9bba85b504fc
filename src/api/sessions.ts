import type { Server } from "node:http";
import type { RawData, WebSocket } from "ws";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { notifyCallback } from "../callback/callback-delivery.js";
import { PENDING_MAX_BYTES } from "../config/variables.js";
import type { LoggedEvent } from "../queue/run-events.js";
import { callbackUrlOf } from "../queue/types.js";
import { parseRunRequest, toJobSpec } from "../run/job-spec.js";
import { isFinal } from "../run/result.js";
import { isSessionSignal, SESSION_SIGNALS } from "../run/signals.js";
import { admissionOf } from "./admission.js";
import { assertCallbackAllowed } from "./callback-guard.js";
import type { ApiDeps } from "./context.js";
import { errorAnswer, INTERNAL_ERROR_BODY } from "./errors.js";
import { acceptSessions } from "./session-upgrade.js";
import { isFinalStatus, messageBytes, OpenSockets, RunConnection } from "./ws-runs.js";

/** How long a client has to send its run request once connected. */
const REQUEST_TIMEOUT_MS = 30_000;
/** The largest stdin message: one entry of the session's input (a Redis stream entry in distributed mode). */
export const STDIN_MESSAGE_MAX_BYTES = 1024 * 1024;

/** Close codes (RFC 6455): the run ended; the client broke the protocol or the limits; the server's fault; try again later. */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;
const CLOSE_TOO_BIG = 1009;
const CLOSE_SERVER_ERROR = 1011;
const CLOSE_TRY_LATER = 1013;

/** A text message from the client after its run request: a control message. */
const controlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("end").describe("End of input: the program reads EOF once it has read what came before") }),
  z.object({
    type: z.literal("signal").describe("A signal for the program, sent at once, ahead of the stdin that waits"),
    signal: z.string().describe(`One of ${SESSION_SIGNALS.join(", ")}`),
  }),
]);
const CONTROL_MESSAGES = '{"type":"end"} and {"type":"signal","signal":"SIGINT"}';

export interface Sessions {
  /** Sessions open now (a client gone must leave none). */
  readonly open: number;
  /** Closes every session (1001: its run is cancelled) and stops taking new ones; resolves once their runs' cancels are sent. */
  close(): Promise<void>;
}

/**
 * GET /v1/sessions (docs/api-extensions.md, *Sessions*): a run whose
 * program's stdin is what the client sends while it runs, and whose output,
 * status changes and final RunResult the client receives as they happen —
 * from the run's event log, the one GET /v1/runs/:id/events reads. A session
 * is a run: queued, limited, shown and cancelled (DELETE /v1/runs/:id) as
 * one. The client going away cancels it.
 */
export function attachSessions(server: Server, deps: ApiDeps): Sessions {
  const { queue, options, logger } = deps;
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);
  const open = new OpenSockets();
  const wss = acceptSessions(
    server,
    { apiKeys: options.apiKeys, rateLimitPerMinute: options.rateLimitPerMinute, limiter: queue.rateLimiter(), maxPayload: options.bodyLimitBytes, logger },
    (ws, apiKey, requestUrl) => {
      open.add(ws);
      session(ws, apiKey, requestUrl);
    },
  );

  const session = (ws: WebSocket, apiKey: string, requestUrl: string) => {
    let ended = false;
    const connection: RunConnection = new RunConnection(ws, apiKey, deps, open, {
      name: "session",
      failed: (error) => {
        const answer = errorAnswer(error);
        if (answer === undefined) logger.error({ err: error, runId: connection.id }, "unexpected error in a session");
        const body = answer?.body ?? INTERNAL_ERROR_BODY;
        connection.send(JSON.stringify({ type: "error", ...body }));
        const code = body.error.code === "payload_too_large" ? CLOSE_TOO_BIG : answer === undefined ? CLOSE_SERVER_ERROR : answer.status === 503 ? CLOSE_TRY_LATER : answer.status >= 500 ? CLOSE_SERVER_ERROR : CLOSE_POLICY;
        connection.close(code, body.error.code);
      },
      event: (event) => {
        connection.send(typed(event));
        return isFinalStatus(event);
      },
      finish: (runId) => sendResult(runId),
      stalled: (runId, stallMs) => {
        logger.info({ runId }, "session cut: its client took no output for too long");
        return new InvalidRequestError(`The client took none of the run's output for ${stallMs / 1000} s: the session is cut and its run cancelled.`);
      },
      // The client went away: its run is cancelled (the cancel stores its result, so its webhook is sent from here, as DELETE does).
      cancel: (runId) =>
        queue
          .cancel(runId, (job, cancelled) => notifyCallback(callbackUrlOf(job), cancelled, logger, deps.callback))
          .then((result) => logger.info({ runId, status: result?.status }, "session closed by its client"))
          .catch((error: unknown) => logger.warn({ runId, err: error }, "a closed session's run could not be cancelled")),
    });
    const fail = (error: unknown) => connection.fail(error);
    const requestTimer = setTimeout(() => fail(new InvalidRequestError(`No run request within ${REQUEST_TIMEOUT_MS / 1000} s: send the POST /v1/runs body as the first (text) message.`)), REQUEST_TIMEOUT_MS);
    ws.once("close", () => clearTimeout(requestTimer));

    /** The first message: the run request, queued as a session. */
    const start = async (data: Buffer, isBinary: boolean) => {
      if (isBinary) throw new InvalidRequestError("The first message of a session is its run request: the POST /v1/runs body as a JSON text message.");
      const release = admission.reserve(data.length);
      try {
        let body: unknown;
        try {
          body = JSON.parse(data.toString("utf8"));
        } catch {
          throw new InvalidRequestError("The run request is not valid JSON: send the POST /v1/runs body as the first (text) message.");
        }
        const request = parseRunRequest(body, options.maxima);
        if (request.tests !== undefined) {
          throw new InvalidRequestError("A session runs one program with its stdin streamed: `tests` are for judged runs (POST /v1/runs).", [{ path: ["tests"], message: "not allowed in a session" }]);
        }
        const spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
        if (request.callbackUrl !== undefined) assertCallbackAllowed(request.callbackUrl, requestUrl, options.ports, deps.callback?.policy);
        const runId = await connection.enqueue(request, spec, data.length);
        clearTimeout(requestTimer);
        logger.info({ runId, language: spec.language.id, priority: request.priority }, "session queued");
        connection.start(JSON.stringify({ type: "run", id: runId, status: "queued" }));
      } finally {
        release();
      }
    };

    const handle = async (data: Buffer, isBinary: boolean) => {
      if (connection.finished || connection.closing || connection.closed) return;
      const input = connection.input;
      if (input === undefined) return start(data, isBinary);
      if (!isBinary) {
        let message: unknown;
        try {
          message = JSON.parse(data.toString("utf8"));
        } catch {
          throw new InvalidRequestError('A text message after the run request is a control message, e.g. {"type":"end"}; stdin goes in binary messages.');
        }
        if (controlSchema.parse(message).type === "signal") return signal(message);
        ended = true;
        return input.end();
      }
      if (ended) throw new InvalidRequestError("Stdin after end of input: nothing may be sent after {\"type\":\"end\"}.");
      if (data.length > STDIN_MESSAGE_MAX_BYTES) throw new InvalidRequestError(`A stdin message of ${data.length} bytes; at most ${STDIN_MESSAGE_MAX_BYTES} bytes each: split it.`);
      return input.write(data);
    };

    /** A signal message: to the program at once, out of band (the queue holds it until the program runs). */
    const signal = async (message: unknown) => {
      const { signal: name } = message as { signal: string };
      if (!isSessionSignal(name)) {
        throw new InvalidRequestError(`Not a signal a session can send: ${JSON.stringify(name)}. One of ${SESSION_SIGNALS.join(", ")}.`, [{ path: ["signal"], message: "not a session signal" }]);
      }
      await connection.input?.signal(name);
    };
    const failMessage = (error: unknown) =>
      fail(error instanceof z.ZodError ? new InvalidRequestError(`Not a control message this server knows: ${error.issues[0]?.message ?? "invalid"}. They are ${CONTROL_MESSAGES}.`) : error);

    ws.on("message", (data: RawData, isBinary: boolean) => {
      const bytes = messageBytes(data);
      if (!isBinary && connection.input !== undefined && !connection.finished && !connection.closing && !connection.closed && isSignalMessage(bytes)) {
        connection.signal(() => signal(JSON.parse(bytes.toString("utf8"))), failMessage);
        return;
      }
      void connection.handle(() => handle(bytes, isBinary), failMessage);
    });

    const sendResult = async (runId: string) => {
      const result = await queue.getSerialized(runId);
      if (result === undefined || !isFinal(result.status)) {
        return fail(new InvalidRequestError(`Run ${runId} has no event log any more; poll GET /v1/runs/${runId}.`));
      }
      connection.finished = true;
      connection.send(Buffer.concat([Buffer.from('{"type":"result","result":'), result.json, Buffer.from("}")]));
      void connection.input?.close();
      connection.close(CLOSE_NORMAL, result.status);
    };
  };

  return {
    get open() {
      return open.size;
    },
    close: () => open.close(wss),
  };
}

/** Whether a text message is a signal message (`"type":"signal"`), told without its schema: a bad one fails in handle(). */
function isSignalMessage(bytes: Buffer): boolean {
  if (bytes.length > 1024) return false;
  try {
    const message = JSON.parse(bytes.toString("utf8")) as unknown;
    return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "signal";
  } catch {
    return false;
  }
}

/** A log event as a session message: its type and number beside its data (`{"type":"output","seq":5,"stage":"run",…}`). */
function typed(event: LoggedEvent): string {
  const rest = event.json.slice(1).trimStart();
  return `{"type":${JSON.stringify(event.type)},"seq":${event.seq}${rest.startsWith("}") ? "" : ","}${rest}`;
}
