import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NUMBER, NumberScanner } from "./number-token.js";

function scan(token: string, cuts: readonly number[] = []): NumberScanner {
  const scanner = new NumberScanner();
  let from = 0;
  for (const cut of [...cuts].map((c) => c % (token.length + 1)).sort((a, b) => a - b)) {
    scanner.feed(token.slice(from, Math.max(from, cut)));
    from = Math.max(from, cut);
  }
  scanner.feed(token.slice(from));
  return scanner;
}

/** The next double above a positive finite `x`. */
function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

/** The exact decimal value of the point halfway between `x` (positive, finite) and nextUp(x): up to 767 significant digits. */
function midpoint(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? -1074 : biased - 1075) - 1; // of the midpoint (2m+1) × 2^exponent
  const odd = 2n * mantissa + 1n;
  if (exponent >= 0) return (odd << BigInt(exponent)).toString();
  const places = -exponent;
  const digits = (odd * 5n ** BigInt(places)).toString().padStart(places + 1, "0");
  return `${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

const numberish = fc
  .array(fc.constantFrom("0", "1", "5", "9", "00000", "99999", ".", "e", "E", "+", "-", "x", " ", "0".repeat(900), "7".repeat(900)), { maxLength: 12 })
  .map((parts) => parts.join(""));

describe("NumberScanner", () => {
  it("says what NUMBER says, and reads what Number() reads, for any token in any pieces", () => {
    fc.assert(
      fc.property(numberish, fc.array(fc.nat(), { maxLength: 5 }), (token, cuts) => {
        const scanner = scan(token, cuts);
        expect(scanner.valid).toBe(NUMBER.test(token));
        if (scanner.valid) expect(Object.is(scanner.value(), Number(token))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("rounds like Number() at the exact halfway points between doubles, and just off them past 800 digits", () => {
    const positive = fc.oneof(
      fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: Number.MIN_VALUE, max: 2.2250738585072014e-308, noNaN: true }), // subnormal
      fc.double({ min: 1e-20, max: 1e20, noNaN: true }),
    );
    fc.assert(
      fc.property(positive, fc.nat(2000), (x, zeros) => {
        fc.pre(x > 0 && Number.isFinite(nextUp(x)));
        const half = midpoint(x);
        const dotted = half.includes(".") ? half : `${half}.`;
        const tokens = [half, `${dotted}${"0".repeat(zeros)}1`, `-${dotted}${"0".repeat(zeros)}`, `0000${half}e0`, `${half.replace(".", "")}e-${half.includes(".") ? half.length - half.indexOf(".") - 1 : 0}`];
        for (const token of tokens) {
          const scanner = scan(token);
          expect(scanner.valid).toBe(true);
          expect(Object.is(scanner.value(), Number(token))).toBe(true);
        }
        // halfway rounds to the even one of the two; a trailing 1 past every kept digit tips it up
        expect(scan(`${dotted}${"0".repeat(zeros)}1`).value()).toBe(nextUp(x));
      }),
      { numRuns: 300 },
    );
  });

  it("reads exponents of any length, and overflows and underflows as Number() does", () => {
    for (const token of ["1e" + "0".repeat(5000) + "5", "1e99999999999999999999", "-1e99999999999999999999", "1e-99999999999999999999", "0e99999999999999999999", "-0", "-0.0e-5", "1" + "0".repeat(400) + "e-400", "0." + "0".repeat(400) + "1e401"]) {
      expect(Object.is(scan(token).value(), Number(token)), token.slice(0, 40)).toBe(true);
    }
  });
});
