import { WarrenConnectionError, WarrenResponseError } from "./errors.js";

/** One Server-Sent Event: its `id` (undefined when it has none), `event` name and `data` lines joined. */
export interface SseFrame {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * Reads text/event-stream frames from `body` as their bytes arrive (comments
 * skipped). At most `maxBytes` are held for one event: a line or an event
 * past it ends the read with `response_too_large`, so a server that never
 * ends a line cannot make the client buffer without bound. Stopping the
 * iteration early cancels the body.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, maxBytes: number, base: string): AsyncGenerator<SseFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let id: string | undefined;
  let event = "message";
  let data: string[] = [];
  let held = 0;
  try {
    for (;;) {
      let read: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
      try {
        read = await reader.read();
      } catch (error) {
        throw new WarrenConnectionError(base, error);
      }
      if (read.done) return;
      buffered += decoder.decode(read.value, { stream: true });
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end).replace(/\r$/, "");
        buffered = buffered.slice(end + 1);
        if (line === "") {
          if (data.length > 0) yield { id, event, data: data.join("\n") };
          id = undefined;
          event = "message";
          data = [];
          held = 0;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = value;
        else if (field === "event") event = value;
        else if (field === "data") {
          data.push(value);
          held += value.length;
        }
        if (held > maxBytes) throw tooLarge(base, maxBytes);
      }
      // Characters, not bytes: within a factor of the bound either way, and never without one.
      if (buffered.length + held > maxBytes) throw tooLarge(base, maxBytes);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function tooLarge(base: string, maxBytes: number): WarrenResponseError {
  return new WarrenResponseError("response_too_large", base, `An event from ${base} is larger than this client's limit of ${maxBytes} bytes (maxResponseBytes).`);
}
