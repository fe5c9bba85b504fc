import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonBuffer, jsonChunks } from "./json-chunks.js";

/** Strings with what is hard to escape: control characters, quotes, backslashes, lone and paired surrogates, U+2028. */
const hardString = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.array(fc.constantFrom("\0", "\u001f", "\u007f", '"', "\\", "\ud83d", "\ude00", "😀", "\u2028", "é", "a", "\n"), { maxLength: 40 }).map((parts) => parts.join("")),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, tie("leaf"), fc.array(tie("node"), { maxLength: 5 }), fc.dictionary(hardString, tie("node"), { maxKeys: 5 })),
  leaf: fc.oneof(hardString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0)),
})).node;

describe("jsonChunks", () => {
  it("writes exactly JSON.stringify's bytes, with any slice size and indent", () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 2, max: 9 }), fc.constantFrom(undefined, 0, 2, 4), (input, sliceChars, indent) => {
        const expected = JSON.stringify(input, null, indent);
        const written = jsonBuffer(input, { sliceChars, ...(indent === undefined ? {} : { indent }) });
        expect(written.toString("utf8")).toBe(expected ?? "");
        if (expected !== undefined) expect(JSON.parse(written.toString("utf8"))).toEqual(JSON.parse(expected));
      }),
      { numRuns: 2000 },
    );
  });

  it("jsonBuffer without a slice size (a small value is one JSON.stringify) writes JSON.stringify's bytes too", () => {
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 0, 2), (input, indent) => {
        expect(jsonBuffer(input, indent === undefined ? {} : { indent }).toString("utf8")).toBe(JSON.stringify(input, null, indent) ?? "");
      }),
      { numRuns: 1000 },
    );
    // past the one-piece budget, deep, or with a toJSON: written piece by piece, the same bytes
    const big = { stdout: "\u0001".repeat(1.5 * 2 ** 20), tests: [{ name: "t", stdout: "x" }] };
    let deep: unknown = "leaf";
    for (let i = 0; i < 40; i++) deep = { [`k${i}`]: [deep] };
    const dated = { at: new Date(0), n: 1 };
    for (const input of [big, deep, dated]) expect(jsonBuffer(input).toString("utf8")).toBe(JSON.stringify(input));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonBuffer(cycle)).toThrow(TypeError);
  });

  it("keeps a surrogate pair in one slice; split between slices, the escaped halves would parse back to the same string", () => {
    const text = "ab😀cd😀";
    for (let sliceChars = 2; sliceChars <= text.length; sliceChars += 1) expect(jsonBuffer(text, { sliceChars }).toString()).toBe(JSON.stringify(text));
    // what a split would write: each half escaped on its own (JSON.stringify escapes lone surrogates); a parser rejoins them
    const [high, low] = ["😀".slice(0, 1), "😀".slice(1)];
    const split = `"${JSON.stringify(`ab${high}`).slice(1, -1)}${JSON.stringify(`${low}cd`).slice(1, -1)}"`;
    expect(split).toBe('"ab\\ud83d\\ude00cd"');
    expect(JSON.parse(split)).toBe("ab😀cd");
  });

  it("follows toJSON and leaves out what JSON.stringify leaves out", () => {
    const input = { a: undefined, b: () => 1, c: Symbol("c"), d: [undefined, () => 1], e: new Date(0), f: { toJSON: () => undefined }, g: NaN, h: -Infinity };
    expect(jsonBuffer(input).toString()).toBe(JSON.stringify(input));
    expect(jsonChunks(undefined)).toEqual([]);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonChunks(cycle)).toThrow(TypeError);
    expect(() => jsonChunks({ n: 1n })).toThrow(TypeError);
  });

  it("writes the JSON of a string longer escaped than the longest string V8 can make, in bounded chunks", () => {
    // 90 M control characters: JSON.stringify would need 540 M characters and throws RangeError.
    const count = 90_000_000;
    const text = "\u0001".repeat(count);
    expect(() => JSON.stringify({ stdout: text })).toThrow(RangeError);
    const chunks = jsonChunks({ stdout: text });
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(total).toBe('{"stdout":"'.length + 6 * count + '"}'.length);
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(6 * 64 * 1024 + 64 * 1024);
    expect(chunks[0]?.subarray(0, 17).toString()).toBe('{"stdout":"\\u0001');
    expect(Buffer.concat(chunks.slice(-2)).subarray(-8).toString()).toBe('\\u0001"}');
    const middle = chunks[Math.floor(chunks.length / 2)] as Buffer;
    expect(middle.length % 6).toBe(0);
    expect(middle.toString()).toBe("\\u0001".repeat(middle.length / 6));
  });
});
