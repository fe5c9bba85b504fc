import os from "node:os";
import type { RunResult } from "../run/result.js";

/** Warren itself failed (as the launcher's 125). */
export const EXIT_WARREN_FAILED = 125;
/** Bad command line. */
export const EXIT_USAGE = 2;

/**
 * `warren run`'s exit code (API.md): the program's exit code; 128+signal when
 * killed; 124 on a time limit; 1 for a compile error; 125 when Warren failed.
 */
export function exitCodeOf(result: RunResult): number {
  if (result.status === "failed" || result.verdict === "internal_error") return EXIT_WARREN_FAILED;
  if (result.verdict === "compile_error") return 1;
  const stage = result.run ?? result.tests?.find((test) => test.verdict !== "accepted") ?? result.tests?.at(-1);
  if (stage === undefined || stage === null) return EXIT_WARREN_FAILED;
  if (stage.status === "time_limit_exceeded") return 124;
  if (stage.signal !== null) return 128 + (os.constants.signals[stage.signal as NodeJS.Signals] ?? 0);
  if (stage.exitCode !== null && stage.exitCode !== 0) return stage.exitCode;
  return result.verdict === "accepted" ? 0 : 1;
}
