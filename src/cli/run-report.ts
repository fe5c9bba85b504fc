import { InvalidRequestError } from "../errors.js";
import { jsonChunks } from "../run/json-chunks.js";
import type { RunResult } from "../run/result.js";
import { exitCodeOf } from "./exit-code.js";

/** No --lang, and no language claims the first file's extension. */
export function cannotGuess(first: string): InvalidRequestError {
  return new InvalidRequestError(`warren run: cannot guess the language of ${first} from its extension; pass --lang (see \`warren languages\`).`);
}

/** After the run: with --json the RunResult; else what the program's live output did not say (a compile error, a limit, Warren's failure). The exit code. */
export function reportRun(result: RunResult, json: boolean): number {
  if (json) {
    // Written in chunks: the JSON of a result can be longer than any string (src/run/json-chunks.ts).
    for (const chunk of jsonChunks(result, { indent: 2 })) process.stdout.write(chunk);
    process.stdout.write("\n");
    return exitCodeOf(result);
  }
  if (result.status === "failed") {
    process.stderr.write(`warren: ${result.error?.message ?? result.run?.error?.message ?? result.compile?.error?.message ?? "the sandbox failed"}\n`);
  } else if (result.verdict === "compile_error" && result.compile !== null) {
    process.stderr.write(result.compile.stdout + result.compile.stderr);
    if (result.compile.status !== "ok" && result.compile.status !== "runtime_error") process.stderr.write(`warren: the compiler stopped: ${result.compile.status}\n`);
  } else if (result.run !== null) {
    if (result.run.status !== "ok" && result.run.status !== "runtime_error") process.stderr.write(`warren: ${result.run.status}\n`);
    if (result.run.error !== undefined) process.stderr.write(`warren: ${result.run.error.step}: ${result.run.error.message}\n`);
  }
  return exitCodeOf(result);
}

