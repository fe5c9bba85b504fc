import type { Server } from "node:http";
import type { RawData, WebSocket } from "ws";
import { InvalidRequestError } from "../../../errors.js";
import { PENDING_MAX_BYTES } from "../../../config/variables.js";
import type { LoggedEvent } from "../../../queue/run-events.js";
import { parseRunRequest, toJobSpec } from "../../../run/job-spec.js";
import { parseResult } from "../../../run/result-json.js";
import { isFinal, type StageResult } from "../../../run/result.js";
import { isSessionSignal } from "../../../run/signals.js";
import { admissionOf } from "../../admission.js";
import type { ApiDeps } from "../../context.js";
import { acceptWebSockets } from "../../session-upgrade.js";
import { STDIN_MESSAGE_MAX_BYTES } from "../../sessions.js";
import { isFinalStatus, messageBytes, OpenSockets, RunConnection } from "../../ws-runs.js";
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
    let job: PistonJob | undefined;
    /** The handling up to and with init: a signal waits for it (for the run to be queued), not for the stdin behind it. */
    let handlingInit: Promise<void> = Promise.resolve();
    const conn: RunConnection = new RunConnection(ws, apiKey, deps, open, {
      name: "piston connect",
      // Piston's way with an error: said in an `error` message (a close reason holds 123 bytes), then close 4002.
      failed: (error) => {
        conn.send(JSON.stringify({ type: "error", message: pistonError(error, deps).message }));
        close(PISTON_CLOSE.notifiedError);
      },
      event: (event) => {
        if (isFinalStatus(event)) return true;
        const message = pistonMessage(event, job as PistonJob);
        if (message !== undefined) conn.send(JSON.stringify(message));
        return false;
      },
      finish: (runId) => finish(runId),
      stalled: (_runId, stallMs) => new InvalidRequestError(`The client took none of the job's output for ${stallMs / 1000} s: the connection is cut and its run cancelled.`),
      cancel: (runId) =>
        queue
          .cancel(runId)
          .then((result) => logger.info({ runId, status: result?.status }, "piston connect closed by its client"))
          .catch((error: unknown) => logger.warn({ runId, err: error }, "a closed piston connection's run could not be cancelled")),
    });
    const fail = (error: unknown) => conn.fail(error);
    const close = ([code, reason]: readonly [number, string]) => conn.close(code, reason);
    const initTimer = setTimeout(() => {
      if (!initialized) close(PISTON_CLOSE.initializationTimeout);
    }, INIT_TIMEOUT_MS);
    ws.once("close", () => clearTimeout(initTimer));

    const init = async (message: Record<string, unknown>, bytes: number) => {
      const release = admission.reserve(bytes);
      let first: string | undefined;
      try {
        const resolved = pistonJob(message, pistonRuntimes(deps.languages()), options.maxima, { stdinNewline: false });
        const { stdin, ...rest } = resolved.request;
        first = stdin;
        const request = parseRunRequest(rest, options.maxima);
        const spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
        const runId = await conn.enqueue(request, spec, bytes);
        job = resolved;
        logger.info({ runId, language: spec.language.id, api: "piston" }, "piston connect queued");
        if (!conn.start(JSON.stringify({ type: "runtime", language: resolved.runtime.language, version: resolved.runtime.version }))) return;
      } finally {
        release();
      }
      // Piston ignores `stdin` in init; Warren gives it to the program first (a client that sends it means it), in stdin-message-sized chunks.
      const text = Buffer.from(first ?? "", "utf8");
      for (let at = 0; at < text.length && !conn.closing && !conn.closed; at += STDIN_MESSAGE_MAX_BYTES) await conn.input?.write(text.subarray(at, at + STDIN_MESSAGE_MAX_BYTES));
    };

    const stdin = async (message: Record<string, unknown>) => {
      if (typeof message.data !== "string") throw new InvalidRequestError("data is required as a string");
      const chunk = Buffer.from(message.data, "utf8");
      if (chunk.length > STDIN_MESSAGE_MAX_BYTES) throw new InvalidRequestError(`A data message of ${chunk.length} bytes; at most ${STDIN_MESSAGE_MAX_BYTES} bytes each: split it.`);
      await conn.input?.write(chunk);
    };

    ws.on("message", (data: RawData) => {
      if (conn.closing || conn.closed || conn.finished) return;
      const bytes = messageBytes(data);
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
            // Behind init (its run must be queued), not behind the stdin that waits for the program.
            conn.signal(() => handlingInit.then(() => conn.input?.signal(name)), fail);
          }
          return;
        default:
          // Piston ignores a message of another type.
          return;
      }
    });
    /** init and stdin are handled one after another (each stdin write waits for the program); signals go at once. */
    const queueHandling = (handle: () => Promise<void>) => {
      const handling = conn.handle(handle, fail);
      if (conn.input === undefined) handlingInit = handling;
    };

    /** The run is over: a completed one closes 4999; one Warren failed (or that has no result any more) is an error. */
    const finish = async (runId: string) => {
      const stored = await queue.getSerialized(runId);
      if (stored === undefined || !isFinal(stored.status)) return fail(new InvalidRequestError(`The job's run ${runId} has no result any more.`));
      const result = parseResult(stored.json);
      if (result.status !== "completed") return fail(new InvalidRequestError(result.error?.message ?? `The job's run ended ${result.status}.`));
      conn.finished = true;
      void conn.input?.close();
      close(PISTON_CLOSE.jobCompleted);
    };
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
