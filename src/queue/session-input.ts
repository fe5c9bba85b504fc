/**
 * The stdin of a session (GET /v1/sessions): the API writes what its client
 * sends, the worker that runs the session reads it into the program's
 * streamed stdin. In memory (embedded) or through a Redis stream per session
 * (distributed). Between them at most STDIN_WINDOW_BYTES (and one chunk) wait:
 * the writer's write() resolves only once the program has taken enough, so
 * an API that awaits each write before reading its socket again holds no more
 * (each chunk counted at stdinCharge()).
 */

/** Stdin bytes written by the API and not yet taken by the program, before write() waits. */
export const STDIN_WINDOW_BYTES = 256 * 1024;

/**
 * What one chunk counts against the window: its bytes, and at least what
 * holding a chunk costs (a Buffer in memory, a stream entry in Redis), so a
 * client that sends one byte a message cannot make the window hold a quarter
 * of a million of them.
 */
export function stdinCharge(bytes: number): number {
  return Math.max(bytes, 512);
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
  /** Lets go of the session's input (its key in Redis, its watch); waiting writes resolve. Idempotent. */
  close(): Promise<void>;
}

/** The worker's side: the chunks in the order they were written, then null for end of input. */
export interface SessionInputReader {
  /** The next chunk; null at end of input or once closed. Never rejects. */
  next(): Promise<Buffer | null>;
  /** The program has taken BYTES of what next() gave: the writer may send that much more. */
  taken(bytes: number): void;
  /** Stops reading (the program ended); a pending next() resolves null. Idempotent. */
  close(): Promise<void>;
}
