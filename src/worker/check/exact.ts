import type { TextCheck } from "./output-check.js";

/** The output equals `expected` exactly: compared piece by piece against it, nothing kept. */
export function exactCheck(expected: string): TextCheck {
  let at = 0;
  let same = true;
  return {
    text(piece) {
      if (!same) return;
      if (at + piece.length > expected.length || !expected.startsWith(piece, at)) same = false;
      else at += piece.length;
    },
    end: () => same && at === expected.length,
  };
}
