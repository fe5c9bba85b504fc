import { InvalidRequestError } from "../errors.js";
import type { SessionSignal } from "../run/signals.js";
import { SIGNALS_WAITING_MAX, STDIN_WINDOW_BYTES, stdinCharge, tooManySignals, type SessionInputReader, type SessionInputWriter } from "./session-input.js";

/** One session's stdin in this process: the chunks that wait, and who waits for what. */
class Channel {
  readonly chunks: Buffer[] = [];
  /** Bytes written and not yet taken by the program (waiting here or in its pipe), each chunk at its stdinCharge(). */
  outstanding = 0;
  ended = false;
  /** The writer closed (the session is over on the API's side). */
  closed = false;
  /** The reader closed (the program ended): what comes after is dropped. */
  drained = false;
  readerWake: (() => void) | undefined;
  readonly writerWakes = new Set<() => void>();
  /** Signals sent before the reader listens for them. */
  readonly signals: SessionSignal[] = [];
  onSignal: ((name: SessionSignal) => void) | undefined;

  wakeReader(): void {
    const wake = this.readerWake;
    this.readerWake = undefined;
    wake?.();
  }

  wakeWriters(): void {
    for (const wake of [...this.writerWakes]) wake();
  }
}

/**
 * Embedded mode's session stdin: one channel per open session, made by its
 * writer and gone when the writer closes (a reader that comes after finds
 * its input ended), so the map holds no more than the open sessions.
 */
export class MemorySessionInputs {
  readonly #channels = new Map<string, Channel>();

  /** Sessions whose input is open (a client gone must leave none). */
  get open(): number {
    return this.#channels.size;
  }

  /** The writer of session `id`'s stdin (the API, once the session's run is queued). */
  writer(id: string): SessionInputWriter {
    const channel = new Channel();
    this.#channels.set(id, channel);
    const close = async () => {
      if (channel.closed) return;
      channel.closed = true;
      if (this.#channels.get(id) === channel) this.#channels.delete(id);
      channel.chunks.length = 0;
      channel.wakeReader();
      channel.wakeWriters();
    };
    return {
      write: async (chunk) => {
        if (channel.closed || channel.drained || channel.ended || chunk.length === 0) return;
        channel.chunks.push(chunk);
        channel.outstanding += stdinCharge(chunk.length);
        channel.wakeReader();
        while (!channel.closed && !channel.drained && channel.outstanding >= STDIN_WINDOW_BYTES) {
          await new Promise<void>((resolve) => {
            const wake = () => {
              channel.writerWakes.delete(wake);
              resolve();
            };
            channel.writerWakes.add(wake);
          });
        }
      },
      end: async () => {
        channel.ended = true;
        channel.wakeReader();
      },
      signal: async (name) => {
        if (channel.closed || channel.drained) return;
        if (channel.onSignal !== undefined) return channel.onSignal(name);
        if (channel.signals.length >= SIGNALS_WAITING_MAX) throw new InvalidRequestError(tooManySignals());
        channel.signals.push(name);
      },
      close,
    };
  }

  /** The reader of session `id`'s stdin (the worker that runs it). */
  reader(id: string): SessionInputReader {
    const channel = this.#channels.get(id);
    if (channel === undefined) return { next: async () => null, taken: () => {}, onSignal: () => {}, close: async () => {} };
    let stopped = false;
    return {
      next: async () => {
        for (;;) {
          if (stopped || channel.closed) return null;
          const chunk = channel.chunks.shift();
          if (chunk !== undefined) return chunk;
          if (channel.ended) return null;
          await new Promise<void>((resolve) => (channel.readerWake = resolve));
        }
      },
      taken: (bytes) => {
        channel.outstanding -= stdinCharge(bytes);
        if (channel.outstanding < STDIN_WINDOW_BYTES) channel.wakeWriters();
      },
      onSignal: (listener) => {
        if (stopped) return;
        channel.onSignal = listener;
        for (const name of channel.signals.splice(0)) listener(name);
      },
      close: async () => {
        stopped = true;
        channel.drained = true;
        channel.onSignal = undefined;
        channel.signals.length = 0;
        // What waits is no one's now: later writes are dropped until the session closes.
        channel.chunks.length = 0;
        channel.outstanding = 0;
        channel.wakeReader();
        channel.wakeWriters();
      },
    };
  }
}
