import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import type { RunRequestInput } from "../../src/run/request.js";
import { runJob } from "../../src/worker/run-job.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { job, run, sandbox } from "../helpers/sandbox.js";

/** A float checker as a C program: every token of the output within 1e-6 of the answer's (testlib's order: input output answer). */
const FLOAT_CHECKER_C = `#include <math.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: checker input output answer\\n"); return 3; }
  FILE *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
  if (out == NULL || ans == NULL) { fprintf(stderr, "cannot open the files\\n"); return 3; }
  double a, b; int n = 0;
  while (fscanf(ans, "%lf", &b) == 1) {
    n++;
    if (fscanf(out, "%lf", &a) != 1) { fprintf(stderr, "number %d missing\\n", n); return 1; }
    if (fabs(a - b) > 1e-6 * fmax(1.0, fabs(b))) { fprintf(stderr, "number %d: expected %.9f, found %.9f\\n", n, b, a); return 1; }
  }
  if (fscanf(out, "%lf", &a) == 1) { fprintf(stderr, "extra output\\n"); return 2; }
  fprintf(stderr, "ok %d numbers\\n", n);
  return 0;
}
`;

/**
 * A testlib-style checker with partial points, in C++ with the few lines of
 * testlib it needs (testlib.h is not available here): quitp writes
 * "points P message" to stderr and exits 7, as testlib's does. The answer
 * holds the count of numbers; the output earns the share of them that are
 * in increasing order.
 */
const PARTIAL_CHECKER_CPP = `#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>
enum TResult { _ok = 0, _wa = 1, _pe = 2, _fail = 3, _points = 7 };
[[noreturn]] static void quit(TResult result, const std::string &message) {
  static const char *names[] = {"ok", "wrong answer", "wrong output format", "FAIL"};
  if (result == _points) std::fprintf(stderr, "points %s\\n", message.c_str());
  else std::fprintf(stderr, "%s %s\\n", names[result], message.c_str());
  std::exit(result);
}
[[noreturn]] static void quitp(double points, const std::string &message) {
  char number[64];
  std::snprintf(number, sizeof number, "%.10g", points);
  quit(_points, std::string(number) + " " + message);
}
int main(int argc, char **argv) {
  if (argc < 4) quit(_fail, "expected: checker input output answer");
  std::ifstream inf(argv[1]), ouf(argv[2]), ans(argv[3]);
  long want;
  if (!(ans >> want) || want <= 0) quit(_fail, "bad answer file");
  std::vector<long> got;
  for (long x; ouf >> x;) got.push_back(x);
  if ((long)got.size() != want) quit(_wa, "expected " + std::to_string(want) + " numbers, found " + std::to_string(got.size()));
  long good = 1;
  while (good < want && got[good] > got[good - 1]) good++;
  if (good == want) quit(_ok, "all " + std::to_string(want) + " in order");
  quitp((double)good / want, std::to_string(good) + " of " + std::to_string(want) + " in order");
}
`;

/** The contestant prints the numbers of its stdin as they are. */
const ECHO_PY = "import sys\nsys.stdout.write(sys.stdin.read())\n";

const floatChecker = { kind: "program" as const, language: "c", files: [{ path: "checker.c", content: FLOAT_CHECKER_C }] };
const partialChecker = { kind: "program" as const, language: "cpp", files: [{ path: "checker.cpp", content: PARTIAL_CHECKER_CPP }] };

const pythonJob = (source: string, extra: Partial<RunRequestInput>) => run(job("python", "main.py", source, extra));

describe("checker programs (checker.kind program)", () => {
  it("judges each test with a float checker written in C: its verdict, and its stderr as the test's checkerMessage", async () => {
    const result = await pythonJob("import math\nprint(math.pi, math.e)\n", {
      tests: [
        { name: "close", expectedOutput: "3.14159265 2.7182818" },
        { name: "far", expectedOutput: "3.2 2.7182818" },
        { name: "short", expectedOutput: "3.14159265 2.7182818 1" },
      ],
      checker: floatChecker,
    });
    expect(result.tests?.map((test) => [test.name, test.verdict, test.checkerMessage])).toEqual([
      ["close", "accepted", "ok 2 numbers\n"],
      ["far", "wrong_answer", "number 1: expected 3.200000000, found 3.141592654\n"],
      ["short", "wrong_answer", "number 3 missing\n"],
    ]);
    expect(result).toMatchObject({ status: "completed", verdict: "wrong_answer", judge: { compile: { status: "ok", exitCode: 0 } } });
    expect(result.tests?.[0]?.judgeFailure).toBeUndefined();
  });

  it("gives the checker the contestant's whole stdout even when keepOutput drops it from the result", async () => {
    const count = 50_000; // ~340 KB of output, all of which the checker must see
    const result = await pythonJob(`print(" ".join(str(i) + ".5" for i in range(${count})))\n`, {
      tests: [{ expectedOutput: Array.from({ length: count }, (_, i) => `${i}.5`).join(" ") }],
      checker: floatChecker,
      keepOutput: "none",
    });
    expect(result.tests?.[0]).toMatchObject({ verdict: "accepted", stdout: "", checkerMessage: `ok ${count} numbers\n`, outputOmitted: { reason: "keep_output" } });
  });

  it("runs a checker with partial points (testlib's exit 7, `points P`); a test without expectedOutput gets an empty answer file", async () => {
    const result = await pythonJob(ECHO_PY, {
      tests: [
        { name: "sorted", stdin: "1 2 3 4", expectedOutput: "4", points: 10 },
        { name: "half", stdin: "1 2 5 4", expectedOutput: "4", points: 10 },
        { name: "quarter", stdin: "9 2 3 4", expectedOutput: "4", points: 20 },
        { name: "count", stdin: "1 2", expectedOutput: "4", points: 5 },
        { name: "no answer", stdin: "1", points: 1 },
      ],
      checker: partialChecker,
    });
    expect(result.tests?.map((test) => [test.name, test.verdict, test.score, test.maxScore, test.checkerMessage])).toEqual([
      ["sorted", "accepted", 10, 10, "ok all 4 in order\n"],
      ["half", "wrong_answer", 7.5, 10, "points 0.75 3 of 4 in order\n"],
      ["quarter", "wrong_answer", 5, 20, "points 0.25 1 of 4 in order\n"],
      ["count", "wrong_answer", 0, 5, "wrong answer expected 4 numbers, found 2\n"],
      ["no answer", "internal_error", 0, 1, "FAIL bad answer file\n"],
    ]);
    // The empty answer made the checker fail (exit 3): the judge's failure, not the contestant's.
    expect(result.tests?.[4]?.judgeFailure).toBe("the checker reported a judge failure (exit 3)");
    expect(result).toMatchObject({ status: "failed", verdict: "internal_error", score: 22.5, maxScore: 46, error: { code: "judge_failed" } });
  });

  it("does not run the checker on a run that crashed or hit a limit: that is the verdict", async () => {
    const result = await pythonJob("import sys\nsys.exit(int(sys.stdin.read()))\n", {
      tests: [{ stdin: "0", expectedOutput: "" }, { stdin: "4", expectedOutput: "" }],
      checker: floatChecker,
    });
    expect(result.tests?.map((test) => [test.verdict, test.checkerMessage])).toEqual([["accepted", "ok 0 numbers\n"], ["runtime_error", undefined]]);
  });

  it.each([
    ["crashes", "int main(void) { return *(volatile int *)0; }", {}, "the checker was killed by SIGSEGV"],
    ["loops", "int main(void) { for (;;); }", { cpuTimeMs: 200, wallTimeMs: 1000 }, "the checker ended with time_limit_exceeded"],
    ["allocates too much", "#include <stdlib.h>\n#include <string.h>\nint main(void) { for (;;) { char *p = malloc(1 << 20); if (p) memset(p, 1, 1 << 20); } }", { memoryMb: 32 }, "the checker ended with memory_limit_exceeded"],
    ["exits 4", "int main(void) { return 4; }", {}, "the checker exited 4, which is not one of testlib's verdicts (0, 1, 2, 3, 7)"],
    ["exits 7 without points", '#include <stdio.h>\nint main(void) { fputs("half right\\n", stderr); return 7; }', {}, 'the checker exited 7 (points) but its message does not start with a fraction from 0 to 1 (e.g. "points 0.5"): "half right"'],
  ])("a checker that %s is the judge's failure (internal_error), never wrong_answer; the tests after it are not run", async (_, source, limits, reason) => {
    const result = await pythonJob("print(1)\n", {
      tests: [{ expectedOutput: "1" }, { expectedOutput: "1" }],
      checker: { kind: "program", language: "c", files: [{ path: "checker.c", content: source }], limits },
    });
    expect(result.tests?.map((test) => [test.verdict, test.judgeFailure])).toEqual([["internal_error", reason]]);
    expect(result).toMatchObject({ status: "failed", verdict: "internal_error", error: { code: "judge_failed", message: `The checker program failed on test 1: ${reason}.` } });
  });

  it("a checker that fills its own scratch, so the next test's files cannot be written, is the judge's failure, not Warren's", async () => {
    const filler = `#include <stdio.h>
#include <string.h>
int main(void) {
  static char block[1 << 16]; memset(block, 'x', sizeof block);
  for (int i = 0; ; i++) { char name[32]; snprintf(name, sizeof name, "fill%d", i); FILE *f = fopen(name, "w"); if (f == NULL) break;
    size_t n = 0; while (n < 64 && fwrite(block, sizeof block, 1, f) == 1) n++; if (fclose(f) != 0 || n < 64) break; }
  return 0;
}
`;
    const result = await pythonJob("print(1)\n", {
      tests: [{ expectedOutput: "1" }, { expectedOutput: "1" }],
      checker: { kind: "program", language: "c", files: [{ path: "checker.c", content: filler }], limits: { diskMb: 8, wallTimeMs: 20_000 }, compileLimits: { diskMb: 8 } },
    });
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "internal_error"]);
    expect(result.tests?.[1]?.judgeFailure).toMatch(/^the test's files could not be written into the checker's container/);
    expect(result).toMatchObject({ status: "failed", error: { code: "judge_failed" } });
  });

  it("reports a checker that does not compile as the judge's compile error, apart from the contestant's compile", async () => {
    const result = await run(
      job("c", "main.c", "int main(void) { return 0; }", {
        tests: [{ expectedOutput: "" }],
        checker: { kind: "program", language: "cpp", files: [{ path: "checker.cpp", content: "int main() { return nonsense; }" }] },
      }),
    );
    expect(result).toMatchObject({ status: "failed", verdict: "internal_error", tests: null, compile: { status: "ok", exitCode: 0 }, error: { code: "judge_compile_error" } });
    expect(result.judge?.compile).toMatchObject({ status: "runtime_error", exitCode: 1 });
    expect(result.judge?.compile?.stderr).toContain("nonsense");
  });

  it("keeps at most 64 KiB of a checker's compile output, however much its compiler prints", async () => {
    const errors = Array.from({ length: 1000 }, (_, i) => `int v${i} = undeclared_${i};`).join("\n");
    const result = await pythonJob("print(1)\n", { tests: [{ expectedOutput: "1" }], checker: { kind: "program", language: "c", files: [{ path: "checker.c", content: errors }] } });
    const compile = result.judge?.compile;
    expect(compile).toMatchObject({ status: "runtime_error", stderrTruncated: true, outputOmitted: { reason: "result_budget" } });
    expect(Buffer.byteLength(compile?.stderr ?? "") + Buffer.byteLength(compile?.stdout ?? "")).toBeLessThanOrEqual(64 * 1024);
    expect(compile?.outputOmitted?.stderrBytes).toBeGreaterThan(0);
  });

  it("runs a checker in another language than the contestant's, interpreted (Python)", async () => {
    const checker = "import sys\nout, ans = open(sys.argv[2]).read().split(), open(sys.argv[3]).read().split()\nprint('same' if out == ans else 'differ', file=sys.stderr)\nsys.exit(0 if out == ans else 1)\n";
    const result = await run(
      job("c", "main.c", '#include <stdio.h>\nint main(void) { puts("a  b"); return 0; }', {
        tests: [{ expectedOutput: "a b" }, { expectedOutput: "a c" }],
        checker: { kind: "program", language: "python", files: [{ path: "check.py", content: checker }] },
      }),
    );
    expect(result.tests?.map((test) => [test.verdict, test.checkerMessage])).toEqual([["accepted", "same\n"], ["wrong_answer", "differ\n"]]);
    expect(result.judge).toEqual({ compile: null });
  });

  it("ends the checker with the job when the job is cancelled while the checker runs: nothing of it is left", async () => {
    const marker = `checker_${randomUUID().replaceAll("-", "")}`;
    const env = await sandbox();
    const body = job("python", "main.py", "print(1)\n", {
      tests: [{ expectedOutput: "1" }],
      checker: { kind: "program", language: "python", files: [{ path: `${marker}.py`, content: "import time\ntime.sleep(120)\n" }], limits: { wallTimeMs: 60_000 } },
    });
    const controller = new AbortController();
    const running = runJob(jobSpecFromBody(body, { languages: env.image.languages }), env, undefined, { signal: controller.signal });
    await eventually("the checker to run", () => (processesWith(marker).length > 0 ? true : undefined));
    controller.abort();
    // A bound, not a timing: a checker left to its 60 s wall limit would hold the job past it.
    let ended: Awaited<typeof running> | undefined;
    void running.then((result) => (ended = result));
    expect(await eventually("the cancelled job to end", () => ended)).toMatchObject({ status: "cancelled", verdict: null });
    expect(processesWith(marker)).toEqual([]);
  });
});
