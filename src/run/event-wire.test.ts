import { describe, expect, it } from "vitest";
import type { JobEvent } from "./events.js";
import { incompleteTail, WireEncoder, type WireEvent } from "./event-wire.js";

const out = (data: Buffer, stream: "stdout" | "stderr" = "stdout"): JobEvent => ({ type: "output", ref: { stage: "run" }, stream, data });
const decoded = (events: readonly WireEvent[]) =>
  Buffer.concat(
    events.map((event) => {
      const { data, encoding } = JSON.parse(event.json) as { data: string; encoding: BufferEncoding };
      return Buffer.from(data, encoding);
    }),
  );

describe("WireEncoder", () => {
  it("sends valid UTF-8 as text, holding back a character split across chunks until its end arrives", () => {
    const text = Buffer.from("añ€😀z");
    // every split point, including inside each multi-byte character
    for (let cut = 0; cut <= text.length; cut++) {
      const encoder = new WireEncoder();
      const events = [...encoder.encode(out(text.subarray(0, cut))), ...encoder.encode(out(text.subarray(cut))), ...encoder.flush()];
      expect(events.every((event) => JSON.parse(event.json).encoding === "utf8"), `cut at ${cut}`).toBe(true);
      expect(decoded(events).equals(text)).toBe(true);
    }
  });

  it("sends bytes that are not UTF-8 as base64, exactly, and a character cut off by the stage's end too", () => {
    const encoder = new WireEncoder();
    const events = [...encoder.encode(out(Buffer.from([0x61, 0xff, 0x62]))), ...encoder.encode(out(Buffer.from([0xe2, 0x82])))];
    expect(events.map((event) => JSON.parse(event.json).encoding)).toEqual(["base64"]);
    const ended = encoder.encode({ type: "stage_started", ref: { stage: "test", index: 1, name: "2" } });
    expect(ended.map((event) => event.type)).toEqual(["output", "stage_started"]);
    expect(JSON.parse((ended[0] as WireEvent).json)).toEqual({ stage: "run", stream: "stdout", encoding: "base64", data: Buffer.from([0xe2, 0x82]).toString("base64") });
    expect(decoded([...events, ended[0] as WireEvent]).equals(Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82]))).toBe(true);
  });

  it("keeps stdout's and stderr's held bytes apart", () => {
    const encoder = new WireEncoder();
    const euro = Buffer.from("€");
    const events = [
      ...encoder.encode(out(euro.subarray(0, 1), "stdout")),
      ...encoder.encode(out(euro.subarray(0, 2), "stderr")),
      ...encoder.encode(out(euro.subarray(1), "stdout")),
      ...encoder.encode(out(euro.subarray(2), "stderr")),
    ];
    expect(events.map((event) => JSON.parse(event.json))).toEqual([
      { stage: "run", stream: "stdout", encoding: "utf8", data: "€" },
      { stage: "run", stream: "stderr", encoding: "utf8", data: "€" },
    ]);
  });

  it("leaves a stage's output out of its stage_finished (it came as output events)", () => {
    const result = { status: "ok", exitCode: 0, signal: null, stdout: "secret", stderr: "x", stdoutTruncated: false, stderrTruncated: false, cpuTimeMs: 1, wallTimeMs: 2, memoryKb: 3 } as const;
    const [event] = new WireEncoder().encode({ type: "stage_finished", ref: { stage: "run" }, result });
    expect(JSON.parse((event as WireEvent).json)).toEqual({ stage: "run", result: { status: "ok", exitCode: 0, signal: null, stdoutTruncated: false, stderrTruncated: false, cpuTimeMs: 1, wallTimeMs: 2, memoryKb: 3 } });
  });
});

describe("incompleteTail", () => {
  it("counts the bytes of an unfinished character at the end, and nothing for a finished one or ASCII", () => {
    expect(incompleteTail(Buffer.from("abc"))).toBe(0);
    expect(incompleteTail(Buffer.from("a€"))).toBe(0);
    expect(incompleteTail(Buffer.from("a€").subarray(0, 3))).toBe(2);
    expect(incompleteTail(Buffer.from("😀").subarray(0, 3))).toBe(3);
    expect(incompleteTail(Buffer.from([0xc3]))).toBe(1);
    expect(incompleteTail(Buffer.alloc(0))).toBe(0);
  });
});
