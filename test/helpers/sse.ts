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
  const decoder = new TextDecoder();
  let buffered = "";
  let id: string | undefined;
  let event = "message";
  let data: string[] = [];
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
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
