/*
 * The streaming checkers against the whole-string ones they replace: for
 * any expected text, any output bytes (invalid UTF-8 included) and any split
 * of those bytes into chunks (inside a character too), the verdict is the
 * one the old checker gave on the whole decoded output.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Checker } from "../../run/request.js";
import { startCheck } from "../checkers.js";

// ---- The whole-string checkers as they were (db66446, src/worker/checkers.ts): the oracle.
function oldCheck(checker: Checker, expected: string, actual: string): boolean {
  switch (checker.kind) {
    case "exact":
      return actual === expected;
    case "lines":
      return arraysEqual(normalizeLines(expected), normalizeLines(actual), (a, b) => a === b);
    case "tokens":
      return arraysEqual(tokens(expected), tokens(actual), (a, b) => a === b);
    case "float":
      return arraysEqual(tokens(expected), tokens(actual), (a, b) => floatTokensMatch(a, b, checker.epsilon));
  }
}
function normalizeLines(text: string): string[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n").map((line) => line.replace(/[ \t\r]+$/, ""));
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}
function tokens(text: string): string[] {
  return text.split(/\s+/).filter((token) => token !== "");
}
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
function floatTokensMatch(expected: string, actual: string, epsilon: number): boolean {
  if (!NUMBER.test(expected) || !NUMBER.test(actual)) return expected === actual;
  const want = Number(expected);
  const got = Number(actual);
  const difference = Math.abs(want - got);
  return difference <= epsilon || difference <= epsilon * Math.abs(want);
}
function arraysEqual<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((item, index) => equal(item, b[index] as T));
}
// ----

/** Feeds `bytes` to a streaming check in the chunks `cuts` makes. */
function streamed(checker: Checker, expected: string, bytes: Buffer, cuts: readonly number[]): boolean {
  const check = startCheck(checker, expected);
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    check.write(bytes.subarray(from, cut));
    from = cut;
  }
  check.write(bytes.subarray(from));
  return check.end();
}

const CHECKERS: readonly Checker[] = [{ kind: "exact" }, { kind: "lines" }, { kind: "tokens" }, { kind: "float", epsilon: 1e-6 }, { kind: "float", epsilon: 0.5 }];

/** Pieces texts are made of: numbers, words, every kind of whitespace, multi-byte and astral characters. */
const piece = fc.constantFrom(
  "1", "2", "-3", "+0", "0", "-0", "1.", ".5", "1e3", "1E-2", "1e", "e5", ".", "-", "+.5e+1", "0.3333333", "0.33333334", "1000000000", "1000000001", "nan", "inf", "1e999", "-1e999", "1e-999",
  "abc", "YES", "no", "é", "€", "😀", "\u{10FFFF}", "\uFFFD", "\uFEFF",
  " ", "  ", "\t", "\r", "\n", "\r\n", "\n\n", "\v", "\f", "\u00a0", "\u1680", "\u2000", "\u2028", "\u2029", "\u3000", "\u0085",
);
const text = fc.array(piece, { maxLength: 24 }).map((parts) => parts.join(""));
/** Output bytes: a text like the expected one, changed a little, with raw (often invalid) bytes spliced in. */
const outputOf = (expected: string) =>
  fc
    .tuple(
      fc.constantFrom("same", "other", "trailing", "blank-lines", "respaced", "trimmed", "first-half"),
      text,
      fc.array(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })), { maxLength: 3 }),
    )
    .map(([how, other, splices]) => {
      const base =
        how === "same" ? expected
        : how === "other" ? other
        : how === "trailing" ? expected.replace(/\n/g, " \t\r\n") + "  "
        : how === "blank-lines" ? `${expected}\n\n \n`
        : how === "trimmed" ? expected.replace(/\s+$/, "")
        : how === "first-half" ? expected.slice(0, expected.length >> 1)
        : expected.replace(/\s+/g, (space) => (space.length % 2 === 0 ? "\n" : "  "));
      let bytes = Buffer.from(base, "utf8");
      for (const [at, raw] of splices) {
        const i = at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, i), raw, bytes.subarray(i)]);
      }
      return bytes;
    });
const expectedText = fc.oneof(text, fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 12 }));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe("streaming checkers give the whole-string checkers' verdicts", () => {
  for (const checker of CHECKERS) {
    it(`${checker.kind}${checker.kind === "float" ? ` ε=${checker.epsilon}` : ""}: any expected text, any output bytes, any chunks`, () => {
      fc.assert(
        fc.property(expectedText.chain((expected) => fc.tuple(fc.constant(expected), outputOf(expected), cuts)), ([expected, bytes, at]) => {
          expect(streamed(checker, expected, bytes, at)).toBe(oldCheck(checker, expected, bytes.toString("utf8")));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it("with arbitrary bytes as the output (mostly invalid UTF-8)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CHECKERS), expectedText, fc.uint8Array({ maxLength: 40 }), cuts, (checker, expected, raw, at) => {
        const bytes = Buffer.from(raw);
        expect(streamed(checker, expected, bytes, at)).toBe(oldCheck(checker, expected, bytes.toString("utf8")));
      }),
      { numRuns: 3000 },
    );
  });

  it("with lines and tokens far longer than the expected ones, and numbers of any length", () => {
    const long = fc.constantFrom(
      "1".repeat(2000), "0".repeat(1500) + "1", "1." + "0".repeat(3000), "1." + "0".repeat(1100) + "1", "0." + "0".repeat(1200) + "5e1200", "9".repeat(1100) + "e-1090",
      "1" + "0".repeat(1200) + "e-1200", "x".repeat(1500), " ".repeat(2000), "\t \r".repeat(700) + "x", "1".repeat(1100) + "x", "1e" + "0".repeat(1100) + "5",
    );
    const longText = fc.array(fc.oneof(piece, long), { maxLength: 6 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.constantFrom(...CHECKERS), longText, fc.oneof(longText, text), cuts, (checker, expected, output, at) => {
        for (const bytes of [Buffer.from(output, "utf8"), Buffer.from(expected + " ".repeat(1500), "utf8")]) {
          expect(streamed(checker, expected, bytes, at)).toBe(oldCheck(checker, expected, bytes.toString("utf8")));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keeps the verdict when a chunk ends inside a character or a BOM", () => {
    const bytes = Buffer.from("\uFEFF😀 é\n", "utf8");
    for (const checker of CHECKERS) {
      for (let cut = 0; cut <= bytes.length; cut += 1) {
        expect(streamed(checker, "\uFEFF😀 é\n", bytes, [cut])).toBe(true);
        expect(streamed(checker, "😀 é\n", bytes, [cut])).toBe(oldCheck(checker, "😀 é\n", bytes.toString("utf8")));
      }
    }
  });
});

describe("what the streaming checkers decide without keeping the output", () => {
  const megabytes = (n: number, fill: string) => Buffer.alloc(n * 1024 * 1024, fill);
  const feed = (checker: Checker, expected: string, chunks: Buffer[]) => {
    const check = startCheck(checker, expected);
    for (const chunk of chunks) check.write(chunk);
    return check.end();
  };

  it("judges an answer followed by 16 MiB of blanks, and one hidden at the end of them", () => {
    const blanks = Array.from({ length: 16 }, () => megabytes(1, " \n"));
    for (const checker of [{ kind: "lines" }, { kind: "tokens" }, { kind: "float", epsilon: 1e-6 }] as const) {
      expect(feed(checker, "42\n", [Buffer.from("42\n"), ...blanks])).toBe(true);
      expect(feed(checker, "42\n", [...blanks, Buffer.from("43")])).toBe(false);
    }
    // a line of 16 MiB of spaces then a character is not blank
    expect(feed({ kind: "lines" }, "42\n", [Buffer.from("42\n"), ...Array.from({ length: 16 }, () => megabytes(1, " ")), Buffer.from("x")])).toBe(false);
  });

  it("reads long expected tokens and lines in linear time (a backtracking regex took hours on them)", () => {
    const digits = "1".repeat(4 * 1024 * 1024);
    expect(feed({ kind: "float", epsilon: 1e-6 }, `${digits}x`, [Buffer.from(`${digits}x`)])).toBe(true);
    expect(feed({ kind: "float", epsilon: 1e-6 }, `${digits}x`, [Buffer.from(`${digits}y`)])).toBe(false);
    expect(feed({ kind: "float", epsilon: 1e-6 }, `${digits}x`, [Buffer.from("1")])).toBe(false);
    expect(feed({ kind: "float", epsilon: 1e-6 }, `0.${digits}5`, [Buffer.from(`0.${digits}`)])).toBe(true);
    expect(feed({ kind: "float", epsilon: 1e-6 }, `0.${digits}5`, [Buffer.from("0.2")])).toBe(false);
    const spaces = `${" ".repeat(4 * 1024 * 1024)}x`;
    expect(feed({ kind: "lines" }, spaces, [Buffer.from(spaces)])).toBe(true);
    expect(feed({ kind: "lines" }, spaces, [Buffer.from("x")])).toBe(false);
  });

  it("takes a 32 MiB number token for its value", () => {
    const zeros = Array.from({ length: 32 }, () => megabytes(1, "0"));
    expect(feed({ kind: "float", epsilon: 1e-6 }, "1", [Buffer.from("1."), ...zeros, Buffer.from("1")])).toBe(true);
    expect(feed({ kind: "float", epsilon: 1e-6 }, "1", [Buffer.from("1"), ...zeros])).toBe(false);
    expect(feed({ kind: "tokens" }, "1", [Buffer.from("1."), ...zeros])).toBe(false);
  });
});
