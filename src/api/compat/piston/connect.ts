import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { RawData, WebSocket } from "ws";
import { InvalidRequestError } from "../../../errors.js";
import { PENDING_MAX_BYTES } from "../../../config/variables.js";
import type { LoggedEvent } from "../../../queue/run-events.js";
import type { SessionInputWriter } from "../../../queue/session-input.js";
import { parseRunRequest, toJobSpec } from "../../../run/job-spec.js";
import { parseResult } from "../../../run/result-json.js";
import { isFinal, RUN_STATUSES, type RunStatus, type StageResult } from "../../../run/result.js";
import { isSessionSignal } from "../../../run/signals.js";
import { admissionOf } from "../../admission.js";
import { keyOwner } from "../../auth.js";
import type { ApiDeps } from "../../context.js";
import { acceptWebSockets } from "../../session-upgrade.js";
import { STDIN_MESSAGE_MAX_BYTES } from "../../sessions.js";
import { BATCH_BYTES, IDLE_READ_MS, OpenSockets, PING_MS, SEND_WINDOW_BYTES, SIGNALS_IN_FLIGHT_MAX, SIGNALS_PER_SECOND, STALL_MS } from "../../ws-runs.js";
import { pistonJob, pistonStage, type PistonJob } from "./execute.js";
import { pistonError } from "./routes.js";
import { pistonRuntimes } from "./runtimes.js";

/** Where Piston's interactive jobs are opened (the base URL /piston, then Piston's own path). */
export const PISTON_CONNECT_PATH = "/piston/api/v2/connect";

/** Piston's close codes (api/src/api/v2.js), each with Piston's reason. */
export const PISTON_CLOSE = Object.freeze({
  alreadyInitialized: [4000, "Already Initialized"],
  initializationTimeout: [4001, "Initialization Timeout"],
  notifiedError: [4002, "Notified Error"],
  notYetInitialized: [4003, "Not yet initialized"],
  onlyStdin: [4004, "Can only write to stdin"],
  invalidSignal: [4005, "Invalid signal"],
  jobCompleted: [4999, "Job Completed"],
} as const);

/** How long a client has to send `init` once connected: Piston's second. */
const INIT_TIMEOUT_MS = 1_000;

export interface PistonConnections {
  /** Connections open now (a client gone must leave none). */
  readonly open: number;
  /** Closes every connection (1001: its run is cancelled) and stops taking new ones; resolves once their cancels are sent. */
  close(): Promise<void>;
}

/**
 * GET /piston/api/v2/connect (docs/compat.md, *Piston v2*): Piston's
 * interactive job over a WebSocket. In: `init` (the execute body), then
 * `data` (`stream: "stdin"`) and `signal`. Out: `runtime`, then for each
 * stage `stage`, its output as `data` and `exit`, then close 4999; an error
 * is an `error` message and close 4002. Built as a Warren session (a run
 * whose stdin streams in: queued, limited and cancelled as one), read from
 * the run's event log. The client going away cancels it.
 */
export function attachPistonConnect(server: Server, deps: ApiDeps): PistonConnections {
  const { queue, options, logger } = deps;
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);
  const open = new OpenSockets();
  const wss = acceptWebSockets(
    server,
    PISTON_CONNECT_PATH,
    { apiKeys: options.apiKeys, rateLimitPerMinute: options.rateLimitPerMinute, limiter: queue.rateLimiter(), maxPayload: options.bodyLimitBytes, logger },
    (ws, apiKey) => {
      open.add(ws);
      connection(ws, apiKey);
    },
  );

  const connection = (ws: WebSocket, apiKey: string) => {
    let initialized = false;
    let id: string | undefined;
    let job: PistonJob | undefined;
    let input: SessionInputWriter | undefined;
    let finished = false;
    let closing = false;
    let closed = false;
    /** init and stdin are handled one after another (each stdin write waits for the program); signals go at once. */
    let handling: Promise<void> = Promise.resolve();
    /** The handling up to and with init: a signal waits for it (for the run to be queued), not for the stdin behind it. */
    let handlingInit: Promise<void> = Promise.resolve();
    let waiting = 0;
    let signalling = 0;
    let secondStart = 0;
    let secondSignals = 0;
    let secondTimer: NodeJS.Timeout | undefined;
    let answered = true;
    let unwatch: (() => void) | undefined;
    let wake: (() => void) | undefined;
    let unsent = 0;
    let lastProgress = Date.now();
    let fullSince: number | undefined;
    const initTimer = setTimeout(() => {
      if (!initialized) close(PISTON_CLOSE.initializationTimeout);
    }, INIT_TIMEOUT_MS);

    const send = (message: Record<string, unknown>) => {
      if (closed) return;
      const text = JSON.stringify(message);
      const bytes = Buffer.byteLength(text);
      unsent += bytes;
      ws.send(text, () => {
        unsent -= bytes;
        lastProgress = Date.now();
        wake?.();
      });
    };

    const close = ([code, reason]: readonly [number, string]) => {
      if (closing || closed) return;
      closing = true;
      ws.resume();
      ws.close(code, reason);
      setTimeout(() => ws.terminate(), 1_000).unref();
    };

    /** Piston's way with an error: said in an `error` message (a close reason holds 123 bytes), then close 4002. */
    const fail = (error: unknown) => {
      if (closing || closed || finished) return;
      send({ type: "error", message: pistonError(error, deps).message });
      close(PISTON_CLOSE.notifiedError);
    };

    /** Reads the client while at most one message waits behind the one handled, and few signals are on their way. */
    const pace = () => {
      if (closed) return;
      if (closing) return void ws.resume();
      const rest = secondStart + 1_000 - Date.now();
      const signalsSpent = secondSignals >= SIGNALS_PER_SECOND && rest > 0;
      if (signalsSpent && secondTimer === undefined) {
        secondTimer = setTimeout(() => {
          secondTimer = undefined;
          pace();
        }, rest);
      }
      if (waiting > 1 || signalling >= SIGNALS_IN_FLIGHT_MAX || signalsSpent) ws.pause();
      else ws.resume();
    };

    const init = async (message: Record<string, unknown>, bytes: number) => {
      const release = admission.reserve(bytes);
      let first: string | undefined;
      try {
        const resolved = pistonJob(message, pistonRuntimes(deps.languages()), options.maxima, { stdinNewline: false });
        const { stdin, ...rest } = resolved.request;
        first = stdin;
        const request = parseRunRequest(rest, options.maxima);
        const spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
        const runId = randomUUID();
        // Opened before the job is queued: a worker may take it at once.
        const writer = queue.openSessionInput(runId);
        const owner = options.apiKeys.length > 0 ? { owner: keyOwner(apiKey) } : {};
        try {
          await queue.enqueue({ id: runId, language: spec.language.id, version: spec.language.version.detected, request, requestBytes: bytes, session: true, ...owner }, request.priority);
        } catch (error) {
          await writer.close();
          throw error;
        }
        id = runId;
        job = resolved;
        input = writer;
        logger.info({ runId, language: spec.language.id, api: "piston" }, "piston connect queued");
        if (closed) {
          cleanUp();
          return cancelRun(runId);
        }
        send({ type: "runtime", language: resolved.runtime.language, version: resolved.runtime.version });
        void relay(runId).catch(fail);
      } finally {
        release();
      }
      // Piston ignores `stdin` in init; Warren gives it to the program first (a client that sends it means it), in stdin-message-sized chunks.
      const text = Buffer.from(first ?? "", "utf8");
      for (let at = 0; at < text.length && !closing && !closed; at += STDIN_MESSAGE_MAX_BYTES) await input?.write(text.subarray(at, at + STDIN_MESSAGE_MAX_BYTES));
    };

    const stdin = async (message: Record<string, unknown>) => {
      if (typeof message.data !== "string") throw new InvalidRequestError("data is required as a string");
      const chunk = Buffer.from(message.data, "utf8");
      if (chunk.length > STDIN_MESSAGE_MAX_BYTES) throw new InvalidRequestError(`A data message of ${chunk.length} bytes; at most ${STDIN_MESSAGE_MAX_BYTES} bytes each: split it.`);
      await input?.write(chunk);
    };

    ws.on("message", (data: RawData) => {
      if (closing || closed || finished) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      let message: Record<string, unknown>;
      try {
        const parsed = JSON.parse(bytes.toString("utf8")) as unknown;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidRequestError("A message is a JSON object with a `type`: init, data or signal.");
        message = parsed as Record<string, unknown>;
      } catch (error) {
        return fail(error instanceof InvalidRequestError ? error : new InvalidRequestError(`A message is not valid JSON: ${(error as Error).message}`));
      }
      switch (message.type) {
        case "init":
          if (initialized) return close(PISTON_CLOSE.alreadyInitialized);
          initialized = true;
          clearTimeout(initTimer);
          return queueHandling(() => init(message, bytes.length));
        case "data":
          if (!initialized) return close(PISTON_CLOSE.notYetInitialized);
          if (message.stream !== "stdin") return close(PISTON_CLOSE.onlyStdin);
          return queueHandling(() => stdin(message));
        case "signal":
          if (!initialized) return close(PISTON_CLOSE.notYetInitialized);
          if (!isSessionSignal(message.signal)) return close(PISTON_CLOSE.invalidSignal);
          {
            const name = message.signal;
            const now = Date.now();
            if (now - secondStart >= 1_000) {
              secondStart = now;
              secondSignals = 0;
            }
            secondSignals += 1;
            signalling += 1;
            pace();
            // Not behind the stdin that waits for the program: Ctrl-C works while the program reads nothing (once init is done).
            void handlingInit
              .then(() => input?.signal(name))
              .catch(fail)
              .finally(() => {
                signalling -= 1;
                pace();
              });
          }
          return;
        default:
          // Piston ignores a message of another type.
          return;
      }
    });
    const queueHandling = (handle: () => Promise<void>) => {
      waiting += 1;
      pace();
      handling = handling.then(handle).then(
        () => {
          waiting -= 1;
          pace();
        },
        (error: unknown) => fail(error),
      );
      if (input === undefined) handlingInit = handling;
    };

    ws.on("pong", () => (answered = true));
    const heartbeat = setInterval(() => {
      if (!answered && !ws.isPaused) {
        logger.info({ runId: id }, "piston connect cut: its client answered no ping");
        closing = true;
        ws.terminate();
        return;
      }
      answered = false;
      ws.ping();
    }, options.sessionPingMs ?? PING_MS);

    /** Sends the run's stages, output and exits as they come from its log, then closes 4999. */
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
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }).finally(() => (wake = undefined));
      while (!closing && !closed) {
        if (unsent >= SEND_WINDOW_BYTES) {
          fullSince ??= Date.now();
          const idle = Date.now() - Math.max(lastProgress, fullSince);
          if (idle >= stallMs) return fail(new InvalidRequestError(`The client took none of the job's output for ${stallMs / 1000} s: the connection is cut and its run cancelled.`));
          await sleep(stallMs - idle);
          continue;
        }
        fullSince = undefined;
        grew = false;
        const batch = await queue.events.read(runId, seen, BATCH_BYTES);
        for (const event of batch.events) {
          seen = event.seq;
          const status = finalStatus(event);
          if (status !== undefined) return finish(runId);
          const message = pistonMessage(event, job as PistonJob);
          if (message !== undefined) send(message);
        }
        if (batch.events.length > 0) continue;
        if (batch.missing) return finish(runId);
        if (!grew) await sleep(IDLE_READ_MS);
      }
    };

    /** The run is over: a completed one closes 4999; one Warren failed (or that has no result any more) is an error. */
    const finish = async (runId: string) => {
      const stored = await queue.getSerialized(runId);
      if (stored === undefined || !isFinal(stored.status)) return fail(new InvalidRequestError(`The job's run ${runId} has no result any more.`));
      const result = parseResult(stored.json);
      if (result.status !== "completed") return fail(new InvalidRequestError(result.error?.message ?? `The job's run ended ${result.status}.`));
      finished = true;
      void input?.close();
      close(PISTON_CLOSE.jobCompleted);
    };

    const cancelRun = (runId: string) => {
      open.cancelling(
        queue
          .cancel(runId)
          .then((result) => logger.info({ runId, status: result?.status }, "piston connect closed by its client"))
          .catch((error: unknown) => logger.warn({ runId, err: error }, "a closed piston connection's run could not be cancelled")),
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
      clearTimeout(initTimer);
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

/** A log event as Piston's message: `stage`, `data` and `exit` of the compile and run stages; others (statuses) are not Piston's. */
function pistonMessage(event: LoggedEvent, job: PistonJob): Record<string, unknown> | undefined {
  if (event.type !== "stage_started" && event.type !== "output" && event.type !== "stage_finished") return undefined;
  const data = JSON.parse(event.json) as { stage: string; stream?: string; encoding?: BufferEncoding; data?: string; result?: StageResult };
  if (data.stage !== "compile" && data.stage !== "run") return undefined;
  switch (event.type) {
    case "stage_started":
      return { type: "stage", stage: data.stage };
    case "output":
      return { type: "data", stream: data.stream, data: Buffer.from(data.data ?? "", data.encoding ?? "utf8").toString("utf8") };
    case "stage_finished": {
      const result = data.result as StageResult;
      const cpuLimit = (data.stage === "run" ? job.request.limits?.cpuTimeMs : job.request.compileLimits?.cpuTimeMs) ?? Number.POSITIVE_INFINITY;
      // The event's result has no output (it came as data): the stage's code and signal as Piston reports them.
      const stage = pistonStage({ ...result, stdout: "", stderr: "" }, "", cpuLimit);
      return { type: "exit", stage: data.stage, code: stage.code, signal: stage.signal };
    }
  }
}

function finalStatus(event: LoggedEvent): RunStatus | undefined {
  if (event.type !== "status") return undefined;
  const status = (JSON.parse(event.json) as { status?: unknown }).status;
  return RUN_STATUSES.includes(status as RunStatus) && isFinal(status as RunStatus) ? (status as RunStatus) : undefined;
}
