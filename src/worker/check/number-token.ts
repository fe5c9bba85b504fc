/**
 * What the float checker takes for a number (anything else is compared
 * exactly). Backtracking makes it quadratic in the length of a string of
 * digits that is not a number ("1111…1x"): isNumber() uses it on short
 * tokens only.
 */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Tokens up to this length are checked with NUMBER; longer ones with a NumberScanner (linear). */
const REGEX_CHARS = 1024;

/** `NUMBER.test(text)`, in time linear in its length (an expected token can be 16 MiB long). */
export function isNumber(text: string): boolean {
  if (text.length <= REGEX_CHARS) return NUMBER.test(text);
  const scanner = new NumberScanner();
  scanner.feed(text);
  return scanner.valid;
}

/** Numbers match within `epsilon`, absolute or relative to the expected value. */
export function numbersMatch(want: number, got: number, epsilon: number): boolean {
  const difference = Math.abs(want - got);
  return difference <= epsilon || difference <= epsilon * Math.abs(want);
}

/** Two tokens under the float checker: numbers within `epsilon`, anything else exactly. */
export function floatTokensMatch(expected: string, actual: string, epsilon: number): boolean {
  if (!isNumber(expected) || !isNumber(actual)) return expected === actual;
  return numbersMatch(Number(expected), Number(actual), epsilon);
}

/**
 * Significant digits kept. A decimal's nearest double is decided by its
 * first 768 significant digits and whether any non-zero digit follows (the
 * longest decimal between two doubles has 767); V8 keeps 772.
 */
const KEPT_DIGITS = 800;
/** Past this exponent a value of at most KEPT_DIGITS + 1 digits is Infinity or 0 whatever its digits. */
const EXPONENT_BOUND = 10_000;

/** Where in NUMBER's grammar the characters so far lead. */
type State = "start" | "sign" | "int" | "leading-dot" | "int-dot" | "fraction" | "e" | "e-sign" | "exponent" | "invalid";

/**
 * Reads a token of any length character by character in bounded space and
 * gives `NUMBER.test(token)` and `Number(token)` as the whole token would:
 * its significant digits (KEPT_DIGITS, and a sticky 1 when a non-zero digit
 * is dropped), where the decimal point falls, and the exponent, rewritten as
 * a short literal with the same nearest double.
 */
export class NumberScanner {
  #state: State = "start";
  #negative = false;
  #digits = "";
  #dropped = false;
  /** Power of ten of the first kept digit's place, plus one: value = 0.DIGITS × 10^shift (before the exponent). */
  #shift = 0;
  #exponent = 0;
  #exponentNegative = false;

  feed(text: string): void {
    for (let i = 0; i < text.length && this.#state !== "invalid"; i += 1) this.#char(text.charCodeAt(i));
  }

  /** Whether the characters fed so far match NUMBER. */
  get valid(): boolean {
    const state = this.#state;
    return state === "int" || state === "int-dot" || state === "fraction" || state === "exponent";
  }

  /** Whether more characters could still make a NUMBER. */
  get possible(): boolean {
    return this.#state !== "invalid";
  }

  /** `Number(token)`; only meaningful when valid. */
  value(): number {
    if (this.#digits === "") return this.#negative ? -0 : 0;
    const exponent = Math.max(-EXPONENT_BOUND, Math.min(EXPONENT_BOUND, this.#shift + (this.#exponentNegative ? -this.#exponent : this.#exponent)));
    return Number(`${this.#negative ? "-" : ""}0.${this.#digits}${this.#dropped ? "1" : ""}e${exponent}`);
  }

  #char(code: number): void {
    const digit = code >= 0x30 && code <= 0x39;
    const sign = code === 0x2b || code === 0x2d;
    const dot = code === 0x2e;
    const e = code === 0x65 || code === 0x45;
    let state = this.#state;
    if (state === "start" && sign) {
      this.#negative = code === 0x2d;
      this.#state = "sign";
      return;
    }
    if (state === "e" && sign) {
      this.#exponentNegative = code === 0x2d;
      this.#state = "e-sign";
      return;
    }
    if (state === "start") state = "sign"; // no sign
    if (state === "e") state = "e-sign";
    switch (state) {
      case "sign":
        if (digit) this.#intDigit(code);
        else this.#state = dot ? "leading-dot" : "invalid";
        return;
      case "int":
        if (digit) this.#intDigit(code);
        else this.#state = dot ? "int-dot" : e ? "e" : "invalid";
        return;
      case "leading-dot":
        if (digit) this.#fractionDigit(code);
        else this.#state = "invalid";
        return;
      case "int-dot":
      case "fraction":
        if (digit) this.#fractionDigit(code);
        else this.#state = e ? "e" : "invalid";
        return;
      case "e-sign":
      case "exponent":
        if (!digit) {
          this.#state = "invalid";
          return;
        }
        // Saturates long before a double could not hold it exactly; any such exponent is Infinity or 0.
        this.#exponent = Math.min(this.#exponent * 10 + (code - 0x30), 1e15);
        this.#state = "exponent";
        return;
      default:
        return;
    }
  }

  #intDigit(code: number): void {
    this.#state = "int";
    if (this.#digits !== "" || code !== 0x30) this.#shift += 1; // leading zeros do not count
    this.#significant(code);
  }

  #fractionDigit(code: number): void {
    this.#state = "fraction";
    if (this.#digits === "" && code === 0x30) this.#shift -= 1; // zeros before the first significant digit
    else this.#significant(code);
  }

  #significant(code: number): void {
    if (this.#digits === "" && code === 0x30) return;
    if (this.#digits.length < KEPT_DIGITS) this.#digits += String.fromCharCode(code);
    else if (code !== 0x30) this.#dropped = true;
  }
}
