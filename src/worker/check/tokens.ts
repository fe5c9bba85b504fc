import { floatTokensMatch, isNumber, NumberScanner, numbersMatch } from "./number-token.js";
import type { TextCheck } from "./output-check.js";

/** JavaScript's `\s` (what the whole-string checkers split on), and its complement, from a position. */
const SPACE = /\s/g;
const NON_SPACE = /\S/g;

/** The index of the first match of `pattern` in `text` from `from`, or text.length. */
function find(pattern: RegExp, text: string, from: number): number {
  pattern.lastIndex = from;
  return pattern.exec(text)?.index ?? text.length;
}

/** The whitespace-separated tokens of an expected output, one at a time. */
export class ExpectedTokens {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** The next token, undefined past the last one. */
  next(): string | undefined {
    const start = find(NON_SPACE, this.#text, this.#at);
    if (start >= this.#text.length) return undefined;
    const end = find(SPACE, this.#text, start);
    this.#at = end;
    return this.#text.slice(start, end);
  }
}

/** How one output token is compared with the expected token it meets. */
interface TokenRule {
  /** Characters of an output token to keep: more can never match `want` as a string. */
  keep(want: string): number;
  /** Whether a longer token may still match, as a number (then only its NumberScanner is kept). */
  readonly numbers: boolean;
  /** Whether the output token matches: `kept` is all of it when `overlong` is false. */
  match(want: string, kept: string, overlong: NumberScanner | undefined): boolean;
}

/** The token checker: tokens equal as strings, so an output token longer than the one it meets fails. */
const exactTokens: TokenRule = {
  keep: (want) => want.length,
  numbers: false,
  match: (want, kept, overlong) => overlong === undefined && kept === want,
};

/** Below this length a float token is kept whole; past it, only what NumberScanner needs to know its value. */
const FLOAT_TOKEN_KEPT = 1024;

/** The float checker: numbers within epsilon (any length: "1.000…0" may match "1"), anything else exactly. */
function floatTokens(epsilon: number): TokenRule {
  return {
    keep: (want) => Math.max(want.length, FLOAT_TOKEN_KEPT),
    numbers: true,
    match: (want, kept, overlong) => {
      if (overlong === undefined) return floatTokensMatch(want, kept, epsilon);
      // Longer than `want`, so never equal as a string: only a match as numbers.
      return overlong.valid && isNumber(want) && numbersMatch(Number(want), overlong.value(), epsilon);
    },
  };
}

/**
 * Token by token: the i-th token of the output must match the expected
 * output's i-th token, and there must be as many. Each output token is
 * compared as it ends; of a longer one than can match, only a float
 * checker's NumberScanner state is kept.
 */
function tokenCheck(expected: string, rule: TokenRule): TextCheck {
  const tokens = new ExpectedTokens(expected);
  let same = true;
  let inToken = false;
  /** The expected token the current output token meets; undefined past the last (no output token may follow). */
  let want: string | undefined;
  let kept = "";
  /** Set once the current output token outgrows what rule.keep allows. */
  let overlong: NumberScanner | undefined;

  const add = (segment: string) => {
    if (want === undefined) {
      same = false; // more tokens than expected
      return;
    }
    if (overlong === undefined) {
      const room = rule.keep(want) - kept.length;
      if (segment.length <= room) {
        kept += segment;
        return;
      }
      if (!rule.numbers) {
        same = false; // longer than the token it meets
        return;
      }
      overlong = new NumberScanner();
      overlong.feed(kept);
      kept = "";
    }
    overlong.feed(segment);
    if (!overlong.possible) same = false; // not a number, and too long to equal `want` as a string
  };
  const endToken = () => {
    if (want === undefined || !rule.match(want, kept, overlong)) same = false;
    inToken = false;
    kept = "";
    overlong = undefined;
  };

  return {
    text(piece) {
      let at = 0;
      while (same && at < piece.length) {
        if (!inToken) {
          at = find(NON_SPACE, piece, at);
          if (at >= piece.length) return;
          inToken = true;
          want = tokens.next();
        }
        const end = find(SPACE, piece, at);
        add(piece.slice(at, end));
        if (end < piece.length) endToken();
        at = end;
      }
    },
    end() {
      if (same && inToken) endToken();
      return same && tokens.next() === undefined;
    },
  };
}

export const tokensCheck = (expected: string): TextCheck => tokenCheck(expected, exactTokens);
export const floatCheck = (expected: string, epsilon: number): TextCheck => tokenCheck(expected, floatTokens(epsilon));
