import { randomUUID } from "node:crypto";
import type { RawData, WebSocket, WebSocketServer } from "ws";
import type { LoggedEvent } from "../queue/run-events.js";
import type { SessionInputWriter } from "../queue/session-input.js";
import type { JobSpec } from "../run/job-spec.js";
import type { RunRequest } from "../run/request.js";
import { isFinal, RUN_STATUSES, type RunStatus } from "../run/result.js";
import { keyOwner } from "./auth.js";
import type { ApiDeps } from "./context.js";

/*
 * What WebSocket endpoints that run a job over their connection share:
 * Warren's sessions (sessions.ts) and Piston's connect (compat/piston/connect.ts).
 * Each keeps only its own messages and close codes (a RunConnectionEndpoint);
 * RunConnection is the rest.
 */

/** Bytes handed to a client's socket and not yet written out, before the run's log is no longer read for it. */
export const SEND_WINDOW_BYTES = 256 * 1024;
/** Most bytes of events one read of the log hands to a connection. */
export const BATCH_BYTES = 64 * 1024;
/** While nothing happens, how often the log is looked at anyway (a wake lost with a Redis reconnect). */
export const IDLE_READ_MS = 15_000;
/** @see ApiOptions.eventStallMs */
export const STALL_MS = 60_000;
/** @see ApiOptions.sessionPingMs */
export const PING_MS = 15_000;
/** Signals sent to the queue and not yet answered, before the connection stops reading its client (Redis answers each). */
export const SIGNALS_IN_FLIGHT_MAX = 16;
/**
 * Signals one connection sends in a second before it stops reading its
 * client for the rest of that second: each costs the launcher (outside the
 * sandbox's limits) a look at the execution's processes, and far more than a
 * person's Ctrl-C is no terminal's.
 */
export const SIGNALS_PER_SECOND = 16;
/** RFC 6455: the server is going away. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * One endpoint's open connections, and the cancels of runs whose connection
 * closed early that are still in flight: what its shutdown closes and waits
 * for (before the queue closes).
 */
export class OpenSockets {
  readonly #open = new Set<WebSocket>();
  readonly #cancelling = new Set<Promise<unknown>>();

  /** Connections open now (a client gone must leave none). */
  get size(): number {
    return this.#open.size;
  }

  /** WS is open until its 'close'. */
  add(ws: WebSocket): void {
    this.#open.add(ws);
    ws.once("close", () => this.#open.delete(ws));
  }

  /** A run's cancel, sent because its connection closed: shutdown waits for it. It must not reject. */
  cancelling(cancel: Promise<unknown>): void {
    const tracked = cancel.finally(() => this.#cancelling.delete(tracked));
    this.#cancelling.add(tracked);
  }

  /** Closes every connection (1001; each closing cancels its run) and WSS; resolves once they are closed and their cancels sent. */
  async close(wss: WebSocketServer): Promise<void> {
    const closes = [...this.#open].map((ws) => new Promise((resolve) => ws.once("close", resolve)));
    for (const ws of this.#open) {
      ws.close(CLOSE_GOING_AWAY, "server shutting down");
      setTimeout(() => ws.terminate(), 1_000).unref();
    }
    wss.close();
    await Promise.all(closes);
    await Promise.all([...this.#cancelling]);
  }
}

/** What a RunConnection leaves to its endpoint: its words, its close codes, its logs. */
export interface RunConnectionEndpoint {
  /** What the logs call a connection ("session", "piston connect"). */
  readonly name: string;
  /** Says ERROR to the client in the endpoint's words and closes with its code: only while open, its run not finished (RunConnection.fail). */
  failed(error: unknown): void;
  /** Sends EVENT of the run's log as the endpoint's message, if it has one; true: the run is over (then finish). */
  event(event: LoggedEvent): boolean;
  /** The run is over (its final status was read, or its log is gone): sends its end and closes. */
  finish(runId: string): Promise<void>;
  /** The error that cuts a client which took none of the run's output for STALL_MS. */
  stalled(runId: string, stallMs: number): Error;
  /** Cancels RUN_ID, whose client went away before it finished, and logs it: the promise must not reject. */
  cancel(runId: string): Promise<unknown>;
}

/**
 * One WebSocket connection that runs a session job (a run whose stdin is what
 * the client sends while it runs): the run's queueing, its stdin and signals
 * read from the client with backpressure and pacing, its event log relayed
 * through a bounded send window, the heartbeat that cuts a vanished client,
 * and the cancel of a run whose client went away.
 */
export class RunConnection {
  readonly #ws: WebSocket;
  readonly #apiKey: string;
  readonly #deps: ApiDeps;
  readonly #open: OpenSockets;
  readonly #endpoint: RunConnectionEndpoint;
  #id: string | undefined;
  #input: SessionInputWriter | undefined;
  /** The run's end was sent: the connection is over, whatever the client still sends. */
  finished = false;
  /** The connection is being closed (by either side): no message is handled any more. */
  #closing = false;
  #closed = false;
  /**
   * Messages are handled one after another: each stdin write waits for the
   * program (backpressure). The socket is read while one is handled, so a
   * signal behind it is seen, and not while another waits behind that one.
   */
  #handling: Promise<void> = Promise.resolve();
  #waiting = 0;
  /** Signals handed to the queue and not answered yet. */
  #signalling = 0;
  /** This second's signals: since when, how many, and the timer that reads the client again after it. */
  #secondStart = 0;
  #secondSignals = 0;
  #secondTimer: NodeJS.Timeout | undefined;
  /** Whether the client answered the last ping (or there was none yet). */
  #answered = true;
  readonly #heartbeat: NodeJS.Timeout;
  #unwatch: (() => void) | undefined;
  #wake: (() => void) | undefined;
  /** Bytes handed to the socket and not yet written out (ws's send callbacks). */
  #unsent = 0;
  /** When the socket last took bytes, and since when the send window is full: a client that takes nothing for stallMs is cut. */
  #lastProgress = Date.now();
  #fullSince: number | undefined;

  constructor(ws: WebSocket, apiKey: string, deps: ApiDeps, open: OpenSockets, endpoint: RunConnectionEndpoint) {
    this.#ws = ws;
    this.#apiKey = apiKey;
    this.#deps = deps;
    this.#open = open;
    this.#endpoint = endpoint;
    // A client that vanished without closing (no FIN: its network gone) answers no ping: it is cut, and its run cancelled.
    // Not while its messages are not read (a stdin write waits): its pong waits behind them.
    ws.on("pong", () => (this.#answered = true));
    this.#heartbeat = setInterval(() => {
      if (!this.#answered && !ws.isPaused) {
        deps.logger.info({ runId: this.#id }, `${endpoint.name} cut: its client answered no ping`);
        this.#closing = true;
        ws.terminate();
        return;
      }
      this.#answered = false;
      ws.ping();
    }, deps.options.sessionPingMs ?? PING_MS);
    ws.on("error", () => {}); // a broken connection ends in 'close'
    ws.once("close", () => {
      this.#closed = true;
      clearTimeout(this.#secondTimer);
      clearInterval(this.#heartbeat);
      this.#wake?.();
      this.#cleanUp();
      if (this.#id !== undefined && !this.finished) this.#cancel(this.#id);
    });
  }

  /** The run's id, once queued. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The run's stdin, once queued. */
  get input(): SessionInputWriter | undefined {
    return this.#input;
  }

  get closing(): boolean {
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends TEXT (a text message) unless the connection is closed; counts it in the send window until it is written out. */
  send(text: string | Buffer): void {
    if (this.#closed) return;
    const bytes = typeof text === "string" ? Buffer.byteLength(text) : text.length;
    this.#unsent += bytes;
    this.#ws.send(text, { binary: false }, () => {
      this.#unsent -= bytes;
      this.#lastProgress = Date.now();
      this.#wake?.();
    });
  }

  /** Closes with CODE and REASON (once). */
  close(code: number, reason: string): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    // A socket paused for a stdin write would not read the client's answer to the close.
    this.#ws.resume();
    this.#ws.close(code, reason);
    // A client that does not answer the close (or reads nothing) is not waited for.
    setTimeout(() => this.#ws.terminate(), 1_000).unref();
  }

  /** Says ERROR the endpoint's way and closes, unless the connection is closing or its run's end was sent. */
  fail(error: unknown): void {
    if (this.#closing || this.#closed || this.finished) return;
    this.#endpoint.failed(error);
  }

  /** Handles a message after the ones before it (TASK; its error goes to ON_ERROR); resolves once it is handled. */
  handle(task: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
    this.#waiting += 1;
    this.#pace();
    this.#handling = this.#handling
      .then(task)
      .then(() => {
        this.#waiting -= 1;
        this.#pace();
      })
      .catch(onError);
    return this.#handling;
  }

  /**
   * Sends a signal (TASK; its error goes to ON_ERROR) at once, not behind the
   * stdin that waits for the program: Ctrl-C works while the program reads
   * nothing. Counted in this second's signals and those in flight.
   */
  signal(task: () => Promise<void>, onError: (error: unknown) => void): void {
    const now = Date.now();
    if (now - this.#secondStart >= 1_000) {
      this.#secondStart = now;
      this.#secondSignals = 0;
    }
    this.#secondSignals += 1;
    this.#signalling += 1;
    this.#pace();
    void task()
      .catch(onError)
      .finally(() => {
        this.#signalling -= 1;
        this.#pace();
      });
  }

  /** Queues REQUEST as this connection's run (REQUEST_BYTES: its size, for the queue's bounds); its id. Its stdin is opened first: a worker may take it at once. */
  async enqueue(request: RunRequest, spec: JobSpec, requestBytes: number): Promise<string> {
    const { queue, options } = this.#deps;
    const runId = randomUUID();
    const writer = queue.openSessionInput(runId);
    const owner = options.apiKeys.length > 0 ? { owner: keyOwner(this.#apiKey) } : {};
    try {
      await queue.enqueue({ id: runId, language: spec.language.id, version: spec.language.version.detected, request, requestBytes, session: true, ...owner }, request.priority);
    } catch (error) {
      await writer.close();
      throw error;
    }
    this.#id = runId;
    this.#input = writer;
    return runId;
  }

  /** Once the run is queued: sends FIRST, then relays the run's log until its end. False if the client left while it was queued: its run is cancelled. */
  start(first: string): boolean {
    const runId = this.#id;
    if (runId === undefined) throw new Error("RunConnection.start before its run was queued");
    if (this.#closed) {
      this.#cleanUp();
      this.#cancel(runId);
      return false;
    }
    this.send(first);
    void this.#relay(runId).catch((error: unknown) => this.fail(error));
    return true;
  }

  /** Reads the client while at most one message waits behind the one handled, and few signals are on their way. */
  #pace(): void {
    if (this.#closed) return;
    // closing: the client's answer to the close is read (close())
    if (this.#closing) return void this.#ws.resume();
    const rest = this.#secondStart + 1_000 - Date.now();
    const signalsSpent = this.#secondSignals >= SIGNALS_PER_SECOND && rest > 0;
    if (signalsSpent && this.#secondTimer === undefined) {
      this.#secondTimer = setTimeout(() => {
        this.#secondTimer = undefined;
        this.#pace();
      }, rest);
    }
    if (this.#waiting > 1 || this.#signalling >= SIGNALS_IN_FLIGHT_MAX || signalsSpent) this.#ws.pause();
    else this.#ws.resume();
  }

  /** Sends the run's events (the endpoint's messages) as they come, then its end. */
  async #relay(runId: string): Promise<void> {
    const { queue, options } = this.#deps;
    const stallMs = options.eventStallMs ?? STALL_MS;
    let grew = true;
    let seen = 0;
    this.#unwatch = await queue.events.watch(runId, () => {
      grew = true;
      this.#wake?.();
    });
    if (this.#closed) return void this.#cleanUp();
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(() => (this.#wake = undefined));
    while (!this.#closing && !this.#closed) {
      if (this.#unsent >= SEND_WINDOW_BYTES) {
        // The client does not take what it was sent: the log holds the rest, and a client that takes nothing for stallMs is cut.
        this.#fullSince ??= Date.now();
        const idle = Date.now() - Math.max(this.#lastProgress, this.#fullSince);
        if (idle >= stallMs) return this.fail(this.#endpoint.stalled(runId, stallMs));
        await sleep(stallMs - idle);
        continue;
      }
      this.#fullSince = undefined;
      grew = false;
      const batch = await queue.events.read(runId, seen, BATCH_BYTES);
      for (const event of batch.events) {
        seen = event.seq;
        if (this.#endpoint.event(event)) return this.#endpoint.finish(runId);
      }
      if (batch.events.length > 0) continue;
      if (batch.missing) return this.#endpoint.finish(runId);
      if (!grew) await sleep(IDLE_READ_MS);
    }
  }

  #cancel(runId: string): void {
    this.#open.cancelling(this.#endpoint.cancel(runId));
  }

  #cleanUp(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    void this.#input?.close();
  }
}

/** A message's bytes, whichever of ws's shapes they came in. */
export function messageBytes(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Whether EVENT is a status event with a final status: the run is over. */
export function isFinalStatus(event: LoggedEvent): boolean {
  if (event.type !== "status") return false;
  const status = (JSON.parse(event.json) as { status?: unknown }).status;
  return RUN_STATUSES.includes(status as RunStatus) && isFinal(status as RunStatus);
}
