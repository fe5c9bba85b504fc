import type { WebSocket, WebSocketServer } from "ws";

/*
 * What WebSocket endpoints that run a job over their connection share:
 * Warren's sessions (sessions.ts) and Piston's connect (compat/piston/connect.ts).
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
