import { describe, expect, it } from "vitest";
import type { RunRequestInput } from "../../src/run/request.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import type { RunResult, StageResult } from "../../src/run/result.js";
import { runJob } from "../../src/worker/run-job.js";
import { job, sandbox } from "../helpers/sandbox.js";

/** Prints N copies of C and a newline on stdout, then "e" on stderr; gcc warns about it on stderr (the compile output). */
const PRINTER = `#warning "budget"
#include <stdio.h>
int main(void) { int n; char c; if (scanf("%d %c", &n, &c) != 2) return 3; for (int i = 0; i < n; i++) putchar(c); putchar('\\n'); fflush(stdout); fputs("e", stderr); return 0; }
`;

async function runWith(body: RunRequestInput, resultMaxBytes: number): Promise<RunResult> {
  const env = await sandbox();
  return runJob(jobSpecFromBody(body, { languages: env.image.languages }), env, undefined, { resultMaxBytes });
}

const kept = (stage: StageResult | null | undefined) => (stage === null || stage === undefined ? 0 : Buffer.byteLength(stage.stdout) + Buffer.byteLength(stage.stderr));

describe("the result budget (WARREN_RESULT_MAX_BYTES)", () => {
  it("is one budget for the compile stage and every test, spent in order; each test is still judged on its whole stdout", async () => {
    const result = await runWith(
      job("c", "main.c", PRINTER, {
        tests: [
          { name: "a", stdin: "600 a", expectedOutput: `${"a".repeat(600)}\n` },
          { name: "b", stdin: "600 b", expectedOutput: `${"b".repeat(600)}\n` },
          { name: "c", stdin: "600 c", expectedOutput: `${"c".repeat(600)}\n` },
          { name: "d", stdin: "600 d", expectedOutput: `${"d".repeat(599)}\n` },
        ],
      }),
      1_000,
    );
    expect(result.compile?.stderr).toContain("budget");
    const compileBytes = kept(result.compile);
    expect(compileBytes).toBeGreaterThan(0);
    expect(compileBytes).toBeLessThan(400);
    expect(result.compile?.outputOmitted).toBeUndefined();
    const [a, b, c, d] = result.tests ?? [];
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "accepted", "accepted", "wrong_answer"]);
    expect(result.verdict).toBe("wrong_answer");
    // test a keeps all 601 + 1 bytes; b what is left; c and d nothing
    expect(a).toMatchObject({ stdout: `${"a".repeat(600)}\n`, stderr: "e", stdoutTruncated: false, stderrTruncated: false });
    expect(a?.outputOmitted).toBeUndefined();
    const left = 1_000 - compileBytes - 602;
    expect(b?.stdout).toBe("b".repeat(left));
    expect(b).toMatchObject({ stderr: "", stdoutTruncated: true, stderrTruncated: true, outputOmitted: { reason: "result_budget", stdoutBytes: 601 - left, stderrBytes: 1 } });
    for (const test of [c, d]) expect(test).toMatchObject({ stdout: "", stderr: "", stdoutTruncated: true, stderrTruncated: true, outputOmitted: { reason: "result_budget", stdoutBytes: 601, stderrBytes: 1 } });
    expect(kept(result.compile) + (result.tests ?? []).reduce((sum, test) => sum + kept(test), 0)).toBe(1_000);
  });

  it("keeps nothing at 0, and says so", async () => {
    const result = await runWith(job("python", "main.py", "import sys\nprint('out')\nprint('err', file=sys.stderr)"), 0);
    expect(result.run).toMatchObject({ stdout: "", stderr: "", stdoutTruncated: true, stderrTruncated: true, outputOmitted: { reason: "result_budget", stdoutBytes: 4, stderrBytes: 4 } });
    expect(result.verdict).toBe("accepted");
  });
});

describe("keepOutput", () => {
  const tests = [
    { name: "right", stdin: "300 r", expectedOutput: `${"r".repeat(300)}\n` },
    { name: "wrong", stdin: "300 w", expectedOutput: "no\n" },
    { name: "unjudged", stdin: "300 u" },
  ];

  it('"failed" keeps the output of the tests that are not accepted, and gives the rest back to the budget', async () => {
    const result = await runWith(job("c", "main.c", PRINTER, { tests, keepOutput: "failed" }), 700 + 400);
    const [right, wrong, unjudged] = result.tests ?? [];
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "wrong_answer", "accepted"]);
    expect(right).toMatchObject({ stdout: "", stderr: "", stdoutTruncated: true, stderrTruncated: true, outputOmitted: { reason: "keep_output", stdoutBytes: 301, stderrBytes: 1 } });
    expect(unjudged).toMatchObject({ stdout: "", stderr: "", outputOmitted: { reason: "keep_output", stdoutBytes: 301, stderrBytes: 1 } });
    // kept whole: the accepted test's bytes went back to the budget
    expect(wrong).toMatchObject({ stdout: `${"w".repeat(300)}\n`, stderr: "e", stdoutTruncated: false, stderrTruncated: false });
    expect(wrong?.outputOmitted).toBeUndefined();
    expect(result.compile?.stderr).toContain("budget");
  });

  it('"none" keeps no test output, but the compile output', async () => {
    const result = await runWith(job("c", "main.c", PRINTER, { tests, keepOutput: "none" }), 1 << 20);
    expect(result.compile?.stderr).toContain("budget");
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "wrong_answer", "accepted"]);
    for (const test of result.tests ?? []) expect(test).toMatchObject({ stdout: "", stderr: "", stdoutTruncated: true, outputOmitted: { reason: "keep_output", stdoutBytes: 301, stderrBytes: 1 } });
  });

  it("applies to a plain run: failed keeps a failing run's output and drops an accepted one's; none drops both", async () => {
    const failing = "import sys\nprint('out')\nsys.exit('bad')";
    const passing = "print('out')";
    const big = 1 << 20;
    expect((await runWith(job("python", "main.py", failing, { keepOutput: "failed" }), big)).run).toMatchObject({ stdout: "out\n", stderr: "bad\n", stdoutTruncated: false });
    const accepted = await runWith(job("python", "main.py", passing, { keepOutput: "failed" }), big);
    expect(accepted).toMatchObject({ verdict: "accepted", run: { stdout: "", stdoutTruncated: true, stderrTruncated: false, outputOmitted: { reason: "keep_output", stdoutBytes: 4, stderrBytes: 0 } } });
    expect((await runWith(job("python", "main.py", failing, { keepOutput: "none" }), big)).run).toMatchObject({
      stdout: "",
      stderr: "",
      outputOmitted: { reason: "keep_output", stdoutBytes: 4, stderrBytes: 4 },
    });
    // nothing to drop: no outputOmitted, no truncation claimed
    const silent = await runWith(job("python", "main.py", "pass", { keepOutput: "none" }), big);
    expect(silent.run).toMatchObject({ stdout: "", stdoutTruncated: false, stderrTruncated: false });
    expect(silent.run?.outputOmitted).toBeUndefined();
  });
});
