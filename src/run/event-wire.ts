import { isUtf8 } from "node:buffer";
import type { JobEvent, StageRef } from "./events.js";
import type { StageResult } from "./result.js";

/**
 * A job's events as they travel and as GET /v1/runs/:id/events sends them
 * (docs/api-extensions.md, *Live output*): a type and a JSON object, numbered
 * by the run's event log. Output bytes become text when they are valid UTF-8
 * and base64 otherwise; a character split across two chunks is held back and
 * sent whole with the next chunk of the same stream.
 */
export interface WireEvent {
  readonly type: WireEventType;
  /** The event's data, a JSON object (never with a raw newline: one SSE `data:` line). */
  readonly json: string;
}

export type WireEventType = "status" | "stage_started" | "output" | "stage_finished" | "test_finished" | "dropped";

/** The stage an event is about, on the wire: `{stage}` or `{stage: "test", index, name}`. */
function refFields(ref: StageRef): Record<string, unknown> {
  return ref.stage === "test" ? { stage: "test", index: ref.index, name: ref.name } : { stage: ref.stage };
}

/** A stage's result without its output: that came as `output` events, and the final result holds what was kept. */
function withoutOutput(result: StageResult): Omit<StageResult, "stdout" | "stderr"> {
  const { stdout: _stdout, stderr: _stderr, ...rest } = result;
  return rest;
}

export function statusEvent(status: string): WireEvent {
  return { type: "status", json: JSON.stringify({ status }) };
}

/**
 * Turns one job's JobEvents into WireEvents, in order. One per job: it holds
 * the incomplete UTF-8 character at the end of each stream's last chunk (at
 * most 3 bytes a stream), until the next chunk of that stream or the stage's end.
 */
export class WireEncoder {
  readonly #carry = new Map<string, { ref: StageRef; stream: "stdout" | "stderr"; bytes: Buffer }>();

  encode(event: JobEvent): WireEvent[] {
    switch (event.type) {
      case "output":
        return this.#output(event.ref, event.stream, event.data);
      case "stage_started":
        return [...this.flush(), { type: "stage_started", json: JSON.stringify(refFields(event.ref)) }];
      case "stage_finished":
        return [...this.flush(), { type: "stage_finished", json: JSON.stringify({ ...refFields(event.ref), result: withoutOutput(event.result) }) }];
      case "test_finished": {
        const { name, verdict } = event.result;
        return [...this.flush(), { type: "test_finished", json: JSON.stringify({ ...refFields(event.ref), result: { ...withoutOutput(event.result), name, verdict } }) }];
      }
    }
  }

  /** The bytes still held back (a character cut off by the stage's end), as base64 output events. */
  flush(): WireEvent[] {
    const held = [...this.#carry.values()].map(({ ref, stream, bytes }) => outputEvent(ref, stream, bytes, "base64"));
    this.#carry.clear();
    return held;
  }

  #output(ref: StageRef, stream: "stdout" | "stderr", chunk: Buffer): WireEvent[] {
    const key = `${stream}`;
    const held = this.#carry.get(key);
    this.#carry.delete(key);
    const bytes = held === undefined ? chunk : Buffer.concat([held.bytes, chunk]);
    const tail = incompleteTail(bytes);
    const head = bytes.subarray(0, bytes.length - tail);
    if (!isUtf8(head)) return [outputEvent(ref, stream, bytes, "base64")];
    if (tail > 0) this.#carry.set(key, { ref, stream, bytes: Buffer.from(bytes.subarray(bytes.length - tail)) });
    return head.length === 0 ? [] : [outputEvent(ref, stream, head, "utf8")];
  }
}

function outputEvent(ref: StageRef, stream: "stdout" | "stderr", bytes: Buffer, encoding: "utf8" | "base64"): WireEvent {
  return { type: "output", json: JSON.stringify({ ...refFields(ref), stream, encoding, data: bytes.toString(encoding) }) };
}

/**
 * How many bytes at the end of `bytes` begin a UTF-8 character that is not
 * complete yet (0–3): a lead byte followed by fewer continuation bytes than
 * it announces.
 */
export function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return back < length ? back : 0;
  }
  return 0;
}
