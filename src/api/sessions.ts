import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { RawData, WebSocket } from "ws";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { notifyCallback } from "../callback/callback-delivery.js";
import { PENDING_MAX_BYTES } from "../config/variables.js";
import type { LoggedEvent } from "../queue/run-events.js";
import type { SessionInputWriter } from "../queue/session-input.js";
import { callbackUrlOf } from "../queue/types.js";
import { parseRunRequest, toJobSpec } from "../run/job-spec.js";
import { isFinal, RUN_STATUSES, type RunStatus } from "../run/result.js";
import { isSessionSignal, SESSION_SIGNALS } from "../run/signals.js";
import { admissionOf } from "./admission.js";
import { keyOwner } from "./auth.js";
import { assertCallbackAllowed } from "./callback-guard.js";
import type { ApiDeps } from "./context.js";
import { errorAnswer, INTERNAL_ERROR_BODY } from "./errors.js";
import { acceptSessions } from "./session-upgrade.js";
import { BATCH_BYTES, IDLE_READ_MS, OpenSockets, PING_MS, SEND_WINDOW_BYTES, SIGNALS_IN_FLIGHT_MAX, SIGNALS_PER_SECOND, STALL_MS } from "./ws-runs.js";

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
    let id: string | undefined;
    let input: SessionInputWriter | undefined;
    let ended = false;
    /** The result was sent: the session is over, whatever the client still sends. */
    let finished = false;
    /** The session is being closed (by either side): no message is handled any more. */
    let closing = false;
    let closed = false;
    /**
     * Messages are handled one after another: each stdin write waits for the
     * program (backpressure). The socket is read while one is handled, so a
     * signal behind it is seen, and not while another waits behind that one.
     */
    let handling: Promise<void> = Promise.resolve();
    let waitingMessages = 0;
    /** Signals handed to the queue and not answered yet. */
    let signalling = 0;
    /** This second's signals: since when, how many, and the timer that reads the client again after it. */
    let secondStart = 0;
    let secondSignals = 0;
    let secondTimer: NodeJS.Timeout | undefined;
    /** Whether the client answered the last ping (or there was none yet). */
    let answered = true;
    let unwatch: (() => void) | undefined;
    let wake: (() => void) | undefined;
    /** Bytes handed to the socket and not yet written out (ws's send callbacks). */
    let unsent = 0;
    /** When the socket last took bytes, and since when the send window is full: a client that takes nothing for stallMs is cut. */
    let lastProgress = Date.now();
    let fullSince: number | undefined;
    const requestTimer = setTimeout(() => fail(new InvalidRequestError(`No run request within ${REQUEST_TIMEOUT_MS / 1000} s: send the POST /v1/runs body as the first (text) message.`)), REQUEST_TIMEOUT_MS);

    const send = (text: string | Buffer) => {
      if (closed) return;
      const bytes = typeof text === "string" ? Buffer.byteLength(text) : text.length;
      unsent += bytes;
      ws.send(text, { binary: false }, () => {
        unsent -= bytes;
        lastProgress = Date.now();
        wake?.();
      });
    };

    /** Reads the client while at most one message waits behind the one handled, and few signals are on their way. */
    const pace = () => {
      if (closed) return;
      // closing: the client's answer to the close is read (close())
      if (closing) return void ws.resume();
      const rest = secondStart + 1_000 - Date.now();
      const signalsSpent = secondSignals >= SIGNALS_PER_SECOND && rest > 0;
      if (signalsSpent && secondTimer === undefined) {
        secondTimer = setTimeout(() => {
          secondTimer = undefined;
          pace();
        }, rest);
      }
      if (waitingMessages > 1 || signalling >= SIGNALS_IN_FLIGHT_MAX || signalsSpent) ws.pause();
      else ws.resume();
    };

    const close = (code: number, reason: string) => {
      closing = true;
      if (closed) return;
      // A socket paused for a stdin write would not read the client's answer to the close.
      ws.resume();
      ws.close(code, reason);
      // A client that does not answer the close (or reads nothing) is not waited for.
      setTimeout(() => ws.terminate(), 1_000).unref();
    };

    const fail = (error: unknown) => {
      if (closing || closed || finished) return;
      const answer = errorAnswer(error);
      if (answer === undefined) logger.error({ err: error, runId: id }, "unexpected error in a session");
      const body = answer?.body ?? INTERNAL_ERROR_BODY;
      send(JSON.stringify({ type: "error", ...body }));
      const code = body.error.code === "payload_too_large" ? CLOSE_TOO_BIG : answer === undefined ? CLOSE_SERVER_ERROR : answer.status === 503 ? CLOSE_TRY_LATER : answer.status >= 500 ? CLOSE_SERVER_ERROR : CLOSE_POLICY;
      close(code, body.error.code);
    };

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
        const runId = randomUUID();
        // Opened before the job is queued: a worker may take it at once.
        const writer = queue.openSessionInput(runId);
        const owner = options.apiKeys.length > 0 ? { owner: keyOwner(apiKey) } : {};
        try {
          await queue.enqueue({ id: runId, language: spec.language.id, version: spec.language.version.detected, request, requestBytes: data.length, session: true, ...owner }, request.priority);
        } catch (error) {
          await writer.close();
          throw error;
        }
        id = runId;
        input = writer;
        clearTimeout(requestTimer);
        logger.info({ runId, language: spec.language.id, priority: request.priority }, "session queued");
        if (closed) {
          // The client left while its run was being queued.
          cleanUp();
          return cancelRun(runId);
        }
        send(JSON.stringify({ type: "run", id: runId, status: "queued" }));
        void relay(runId).catch(fail);
      } finally {
        release();
      }
    };

    const handle = async (data: Buffer, isBinary: boolean) => {
      if (finished || closing || closed) return;
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
      await input?.signal(name);
    };
    const failMessage = (error: unknown) =>
      fail(error instanceof z.ZodError ? new InvalidRequestError(`Not a control message this server knows: ${error.issues[0]?.message ?? "invalid"}. They are ${CONTROL_MESSAGES}.`) : error);

    ws.on("message", (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!isBinary && input !== undefined && !finished && !closing && !closed && isSignalMessage(bytes)) {
        // Not behind the stdin that waits for the program: Ctrl-C works while the program reads nothing.
        const now = Date.now();
        if (now - secondStart >= 1_000) {
          secondStart = now;
          secondSignals = 0;
        }
        secondSignals += 1;
        signalling += 1;
        pace();
        void signal(JSON.parse(bytes.toString("utf8")))
          .catch(failMessage)
          .finally(() => {
            signalling -= 1;
            pace();
          });
        return;
      }
      waitingMessages += 1;
      pace();
      handling = handling
        .then(() => handle(bytes, isBinary))
        .then(() => {
          waitingMessages -= 1;
          pace();
        })
        .catch(failMessage);
    });

    // A client that vanished without closing (no FIN: its network gone) answers no ping: it is cut, and its run cancelled.
    // Not while its messages are not read (a stdin write waits): its pong waits behind them.
    ws.on("pong", () => (answered = true));
    const heartbeat = setInterval(() => {
      if (!answered && !ws.isPaused) {
        logger.info({ runId: id }, "session cut: its client answered no ping");
        closing = true;
        ws.terminate();
        return;
      }
      answered = false;
      ws.ping();
    }, options.sessionPingMs ?? PING_MS);

    /** Sends the run's events as they come, then its result, and closes. */
    const relay = async (runId: string) => {
      const stallMs = options.eventStallMs ?? STALL_MS;
      let grew = true;
      let seen = 0;
      unwatch = await queue.events.watch(runId, () => {
        grew = true;
        wake?.();
      });
      if (closed) return void cleanUp();
      const sleep = (ms: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        }).finally(() => (wake = undefined));
      while (!closing && !closed) {
        if (unsent >= SEND_WINDOW_BYTES) {
          // The client does not take what it was sent: the log holds the rest, and a client that takes nothing for stallMs is cut.
          fullSince ??= Date.now();
          const idle = Date.now() - Math.max(lastProgress, fullSince);
          if (idle >= stallMs) {
            logger.info({ runId }, "session cut: its client took no output for too long");
            return fail(new InvalidRequestError(`The client took none of the run's output for ${stallMs / 1000} s: the session is cut and its run cancelled.`));
          }
          await sleep(stallMs - idle);
          continue;
        }
        fullSince = undefined;
        grew = false;
        const batch = await queue.events.read(runId, seen, BATCH_BYTES);
        for (const event of batch.events) {
          seen = event.seq;
          send(typed(event));
          if (finalStatus(event)) return sendResult(runId);
        }
        if (batch.events.length > 0) continue;
        if (batch.missing) return sendResult(runId);
        if (!grew) await sleep(IDLE_READ_MS);
      }
    };

    const sendResult = async (runId: string) => {
      const result = await queue.getSerialized(runId);
      if (result === undefined || !isFinal(result.status)) {
        return fail(new InvalidRequestError(`Run ${runId} has no event log any more; poll GET /v1/runs/${runId}.`));
      }
      finished = true;
      send(Buffer.concat([Buffer.from('{"type":"result","result":'), result.json, Buffer.from("}")]));
      void input?.close();
      close(CLOSE_NORMAL, result.status);
    };

    const cancelRun = (runId: string) => {
      // The client went away: its run is cancelled (the cancel stores its result, so its webhook is sent from here, as DELETE does).
      open.cancelling(
        queue
          .cancel(runId, (job, cancelled) => notifyCallback(callbackUrlOf(job), cancelled, logger, deps.callback))
          .then((result) => logger.info({ runId, status: result?.status }, "session closed by its client"))
          .catch((error: unknown) => logger.warn({ runId, err: error }, "a closed session's run could not be cancelled")),
      );
    };

    const cleanUp = () => {
      unwatch?.();
      unwatch = undefined;
      void input?.close();
    };

    ws.on("error", () => {}); // a broken connection ends in 'close'
    ws.once("close", () => {
      closed = true;
      clearTimeout(requestTimer);
      clearTimeout(secondTimer);
      clearInterval(heartbeat);
      wake?.();
      cleanUp();
      if (id !== undefined && !finished) cancelRun(id);
    });
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

function finalStatus(event: LoggedEvent): boolean {
  if (event.type !== "status") return false;
  const status = (JSON.parse(event.json) as { status?: unknown }).status;
  return RUN_STATUSES.includes(status as RunStatus) && isFinal(status as RunStatus);
}
