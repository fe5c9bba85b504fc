import { describe, expect, it } from "vitest";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import type { RunRequestInput } from "../../src/run/request.js";
import type { RunResult } from "../../src/run/result.js";
import { runJob } from "../../src/worker/run-job.js";
import { job, run, sandbox } from "../helpers/sandbox.js";

/** Prints its stdin doubled; "crash" crashes, "loop" loops. */
const DOUBLER_C = `#include <stdio.h>
#include <string.h>
int main(void) {
  char word[32] = "";
  if (scanf("%31s", word) != 1) return 2;
  if (strcmp(word, "crash") == 0) return *(volatile int *)0;
  if (strcmp(word, "loop") == 0) for (;;);
  long n = 0; sscanf(word, "%ld", &n); printf("%ld\\n", 2 * n);
  return 0;
}
`;

const doubler = (extra: Partial<RunRequestInput>) => run(job("c", "main.c", DOUBLER_C, extra));
const ok = (n: number, group: string, points?: number) => ({ name: `${group}-${n}`, stdin: String(n), expectedOutput: `${2 * n}\n`, group, ...(points === undefined ? {} : { points }) });
const wrong = (n: number, group: string, points?: number) => ({ ...ok(n, group, points), expectedOutput: "nope\n" });

describe("scored tests and subtasks", () => {
  it("skips a group whose dependency failed, stops a group at its first failure, and adds up groups' all-or-nothing points", async () => {
    const result = await doubler({
      tests: [ok(1, "easy"), ok(2, "easy"), ok(3, "medium"), wrong(4, "medium"), ok(5, "medium"), ok(6, "hard"), ok(7, "other")],
      groups: [
        { name: "easy", points: 20 },
        { name: "medium", points: 30, dependsOn: ["easy"] },
        { name: "hard", points: 40, dependsOn: ["easy", "medium"] },
        { name: "other", points: 10, dependsOn: ["easy"] },
      ],
    });
    // medium stopped at medium-4 (medium-5 skipped); hard depends on medium, so none of it ran; other ran.
    expect(result.tests?.map((test) => [test.name, test.verdict, test.score, test.maxScore])).toEqual([
      ["easy-1", "accepted", 0, 0],
      ["easy-2", "accepted", 0, 0],
      ["medium-3", "accepted", 0, 0],
      ["medium-4", "wrong_answer", 0, 0],
      ["other-7", "accepted", 0, 0],
    ]);
    expect(result.groups).toEqual([
      { name: "easy", score: 20, maxScore: 20, verdict: "accepted", skipped: [] },
      { name: "medium", score: 0, maxScore: 30, verdict: "wrong_answer", skipped: ["medium-5"] },
      { name: "hard", score: 0, maxScore: 40, verdict: null, skipped: ["hard-6"] },
      { name: "other", score: 10, maxScore: 10, verdict: "accepted", skipped: [] },
    ]);
    expect(result).toMatchObject({ status: "completed", verdict: "wrong_answer", score: 30, maxScore: 100 });
  });

  it("sums test points in groups without points of their own and for tests in no group; a crash or a limit scores 0", async () => {
    const result = await doubler({
      tests: [
        { ...ok(1, "a", 3) },
        { name: "crash", stdin: "crash", expectedOutput: "", group: "a", points: 4 },
        { ...ok(2, "b", 5) },
        { name: "free", stdin: "7", expectedOutput: "14\n", points: 2.5 },
        { name: "slow", stdin: "loop", expectedOutput: "", points: 1 },
      ],
      limits: { cpuTimeMs: 300, wallTimeMs: 1000 },
    });
    expect(result.tests?.map((test) => [test.name, test.verdict, test.score, test.maxScore])).toEqual([
      ["a-1", "accepted", 3, 3],
      ["crash", "runtime_error", 0, 4],
      ["b-2", "accepted", 5, 5],
      ["free", "accepted", 2.5, 2.5],
      ["slow", "time_limit_exceeded", 0, 1],
    ]);
    expect(result.groups).toEqual([
      { name: "a", score: 3, maxScore: 7, verdict: "runtime_error", skipped: [] },
      { name: "b", score: 5, maxScore: 5, verdict: "accepted", skipped: [] },
    ]);
    expect(result).toMatchObject({ score: 10.5, maxScore: 15.5 });
  });

  it("reports the score in each test_finished event's result", async () => {
    const env = await sandbox();
    const scores: [string, number | undefined][] = [];
    await runJob(jobSpecFromBody(job("c", "main.c", DOUBLER_C, { tests: [{ stdin: "1", expectedOutput: "2\n", points: 4 }] }), { languages: env.image.languages }), env, undefined, {
      onEvent: (event) => {
        if (event.type === "test_finished") scores.push([event.result.name, event.result.score]);
      },
    });
    expect(scores).toEqual([["1", 4]]);
  });

  it("leaves a result without points or groups as it was: no score, maxScore, groups or judge fields", async () => {
    const result: RunResult = await doubler({ tests: [{ stdin: "1", expectedOutput: "2\n" }, { stdin: "2", expectedOutput: "5\n" }] });
    expect(Object.keys(result)).toEqual(["id", "status", "language", "version", "verdict", "compile", "run", "tests"]);
    for (const test of result.tests ?? []) {
      expect(Object.keys(test)).toEqual(["name", "verdict", "status", "exitCode", "signal", "stdout", "stderr", "stdoutTruncated", "stderrTruncated", "cpuTimeMs", "wallTimeMs", "memoryKb"]);
    }
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "wrong_answer"]);
  });
});
