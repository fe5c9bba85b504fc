import type { Checker } from "../run/request.js";
import { exactCheck } from "./check/exact.js";
import { linesCheck } from "./check/lines.js";
import { decoded, type OutputCheck } from "./check/output-check.js";
import { floatCheck, tokensCheck } from "./check/tokens.js";

export type { OutputCheck } from "./check/output-check.js";

/**
 * A check of one test's stdout against `expected` under `checker`, fed the
 * output's bytes as they arrive (ExecRequest.onStdout). It keeps no copy of
 * the output: at most one line or token of it, as long as the expected one
 * it meets. The output is read as UTF-8, as StageResult.stdout is.
 */
export function startCheck(checker: Checker, expected: string): OutputCheck {
  switch (checker.kind) {
    case "exact":
      return decoded(exactCheck(expected));
    case "lines":
      return decoded(linesCheck(expected));
    case "tokens":
      return decoded(tokensCheck(expected));
    case "float":
      return decoded(floatCheck(expected, checker.epsilon));
  }
}

/** Whether `actual` passes against `expected` under `checker` (the whole output at once). */
export function check(checker: Checker, expected: string, actual: string | Buffer): boolean {
  const running = startCheck(checker, expected);
  running.write(typeof actual === "string" ? Buffer.from(actual, "utf8") : actual);
  return running.end();
}
