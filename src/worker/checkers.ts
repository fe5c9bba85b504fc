/** How a test's output is compared with the expected output (API.md `checker`). */
export type Checker =
  | { readonly kind: "exact" }
  | { readonly kind: "lines" }
  | { readonly kind: "tokens" }
  | { readonly kind: "float"; readonly epsilon: number };

/** Whether `actual` passes against `expected` under `checker`. */
export function check(checker: Checker, expected: string, actual: string): boolean {
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

/** Lines with trailing spaces removed, trailing empty lines dropped; \r\n counts as \n. */
function normalizeLines(text: string): string[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n").map((line) => line.replace(/[ \t\r]+$/, ""));
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

function tokens(text: string): string[] {
  return text.split(/\s+/).filter((token) => token !== "");
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers match within `epsilon`, absolute or relative to the expected value; anything else exactly. */
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
