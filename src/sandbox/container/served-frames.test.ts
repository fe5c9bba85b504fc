import { describe, expect, it } from "vitest";
import { AnswerReader, decodeUsage, encodeCancel, encodeExecRequest, encodeStdinEnd, encodeStdinHeader, type AnswerType } from "./served-frames.js";

function frame(type: string, data: string): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type.charCodeAt(0);
  header.writeUInt32LE(Buffer.byteLength(data), 1);
  return Buffer.concat([header, Buffer.from(data)]);
}

describe("served frames", () => {
  it("encodes an exec request as header, NUL-terminated arguments and stdin", () => {
    const request = encodeExecRequest(["--wall-ms", "5", "--", "cat"], Buffer.from("in"));
    expect(request.subarray(0, 9)).toEqual(Buffer.from([0x78, 19, 0, 0, 0, 2, 0, 0, 0]));
    expect(request.subarray(9).toString()).toBe("--wall-ms\u00005\u0000--\u0000cat\u0000in");
    expect(encodeCancel()).toEqual(Buffer.from([0x6b, 0, 0, 0, 0, 0, 0, 0, 0]));
  });

  it("encodes a streamed execution's stdin frames: the request header, its second length the payload's", () => {
    expect(encodeStdinHeader(0x10203)).toEqual(Buffer.from([0x69, 0, 0, 0, 0, 3, 2, 1, 0]));
    expect(encodeStdinEnd()).toEqual(Buffer.from([0x7a, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(() => encodeStdinHeader(2 ** 32)).toThrow(RangeError);
  });

  it("reassembles answers split at any byte, in order", () => {
    const stream = Buffer.concat([frame("o", "hello "), frame("e", "oops"), frame("o", ""), frame("s", '{"status":"ok"}\n')]);
    for (let size = 1; size <= stream.length; size += 1) {
      const seen: [AnswerType, string][] = [];
      const reader = new AnswerReader((type, data) => seen.push([type, data.toString()]));
      for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
      expect(seen).toEqual([["o", "hello "], ["e", "oops"], ["o", ""], ["s", '{"status":"ok"}\n']]);
    }
  });

  it("decodes a usage frame: CPU µs, peak bytes and OOM kills as int64 LE; none for a wrong size or an unread file (-1)", () => {
    const payload = (...values: bigint[]) => Buffer.concat(values.map((value) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(value);
      return b;
    }));
    expect(decodeUsage(payload(12_345n, 3n * 1024n * 1024n + 5n, 0n))).toEqual({ cpuTimeMs: 12.345, memoryKb: 3072, oomKills: 0 });
    expect(decodeUsage(payload(1n, 2048n, 2n))).toEqual({ cpuTimeMs: 0.001, memoryKb: 2, oomKills: 2 });
    expect(decodeUsage(payload(-1n, 2048n, 0n))).toBeUndefined();
    expect(decodeUsage(payload(1n, 2048n))).toBeUndefined();
    const seen: AnswerType[] = [];
    new AnswerReader((type) => seen.push(type)).push(Buffer.concat([frame("u", payload(1n, 1n, 0n).toString("latin1")), frame("o", "x")]));
    expect(seen).toEqual(["u", "o"]);
  });

  it("refuses a frame of unknown type", () => {
    const reader = new AnswerReader(() => {});
    expect(() => reader.push(frame("z", "x"))).toThrow('unknown type "z"');
  });
});
