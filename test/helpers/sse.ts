/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * A streaming SSE reader on `fetch` (the text/event-stream format: fields per
 * line, events ended by a blank line, comments skipped), yielding each event
 * as soon as its bytes arrive.
 */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  if (response.body === null) throw new Error("the answer has no body");
  yield* parseSse(response.body);
}

/**
 * Reads `response`'s events until one of `type`, and leaves the connection
 * open (a `for await` that breaks would cancel it): the client stays
 * connected, reading nothing more, until `signal` aborts the request.
 */
export async function readUntil(response: Response, type: string): Promise<void> {
  if (response.body === null) throw new Error("the answer has no body");
  const reader = response.body.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  }
  for await (const event of parseSse(chunks())) if (event.event === type) return;
  throw new Error(`the stream ended before an event ${type}`);
}

async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffered = "";
  let id: string | undefined;
  let event = "message";
  let data: string[] = [];
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end).replace(/\r$/, "");
      buffered = buffered.slice(end + 1);
      if (line === "") {
        if (data.length > 0) yield { id, event, data: data.join("\n") };
        event = "message";
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
  }
}

/** Reads every event until the stream ends. */
export async function allEvents(response: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readSse(response)) events.push(event);
  return events;
}
