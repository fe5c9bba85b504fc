/**
 * The stdin of a session (GET /v1/sessions): the API writes what its client
 * sends, the worker that runs the session reads it into the program's
 * streamed stdin. In memory (embedded) or through a Redis stream per session
 * (distributed). Between them at most STDIN_WINDOW_BYTES (and one chunk) wait:
 * the writer's write() resolves only once the program has taken enough, so
 * an API that awaits each write before reading its socket again holds no more
 * (each chunk counted at stdinCharge()).
 */

import type { SessionSignal } from "../run/signals.js";

/** Stdin bytes written by the API and not yet taken by the program, before write() waits. */
export const STDIN_WINDOW_BYTES = 256 * 1024;

/**
 * Signals that may wait for the worker (the run queued, or its program not
 * started yet) beside a full window of stdin; signal() refuses more.
 */
export const SIGNALS_WAITING_MAX = 64;

/**
 * What one chunk counts against the window: its bytes, and at least what
 * holding a chunk costs (a Buffer in memory, a stream entry in Redis), so a
 * client that sends one byte a message cannot make the window hold a quarter
 * of a million of them.
 */
export function stdinCharge(bytes: number): number {
  return Math.max(bytes, 512);
}

/** Why signal() refused: the signals that wait are many already. */
export function tooManySignals(): string {
  return `${SIGNALS_WAITING_MAX} signals already wait for the program (it has not started, or it runs behind): no more are taken until it runs.`;
}

/** The API's side of one session's stdin. */
export interface SessionInputWriter {
  /**
   * Sends CHUNK. Resolves once fewer than STDIN_WINDOW_BYTES wait for the
   * program (at once while the window has room), or once the writer is closed;
   * rejects with QueueUnavailableError when Redis does not answer.
   */
  write(chunk: Buffer): Promise<void>;
  /** End of input: the program reads EOF once it has read what came before. */
  end(): Promise<void>;
  /**
   * Sends signal NAME to the program, out of band: ahead of the stdin that
   * waits (never behind a full window), delivered once the program runs.
   * Rejects with InvalidRequestError when SIGNALS_WAITING_MAX signals wait
   * already, QueueUnavailableError when Redis does not answer.
   */
  signal(name: SessionSignal): Promise<void>;
  /** Lets go of the session's input (its key in Redis, its watch); waiting writes resolve. Idempotent. */
  close(): Promise<void>;
}

/** The worker's side: the chunks in the order they were written, then null for end of input. */
export interface SessionInputReader {
  /** The next chunk; null at end of input or once closed. Never rejects. */
  next(): Promise<Buffer | null>;
  /** The program has taken BYTES of what next() gave: the writer may send that much more. */
  taken(bytes: number): void;
  /** Calls LISTENER with each signal the client sends, those sent before first (the reader holds them until there is one), out of band from next(). */
  onSignal(listener: (name: SessionSignal) => void): void;
  /** Stops reading (the program ended); a pending next() resolves null. Idempotent. */
  close(): Promise<void>;
}
