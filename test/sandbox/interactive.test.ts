// Interactive problems (docs/api-extensions.md, *Interactive problems*): a
// C++ interactor and solutions in C++, Python and Java, each in its own
// container, joined through Node by streamed executions. Real kernel.
import { describe, expect, it } from "vitest";
import { parseRunRequest } from "../../src/run/job-spec.js";
import type { RunRequestInput } from "../../src/run/request.js";
import { InvalidRequestError } from "../../src/errors.js";
import { run, TIME_SCALE } from "../helpers/sandbox.js";

/**
 * Binary search, testlib's way: the interactor reads the hidden number from
 * its input file (argv[1]); to "? N" it answers ">" (the number is greater),
 * "<" or "=" and then exits 0; more than 30 queries, or a malformed one or
 * EOF before "=", is a wrong answer (exit 1).
 */
export const BINARY_SEARCH_INTERACTOR = `#include <cstdio>
int main(int argc, char **argv) {
  FILE *in = argc > 1 ? fopen(argv[1], "r") : nullptr;
  long x;
  if (in == nullptr || fscanf(in, "%ld", &x) != 1) { fprintf(stderr, "cannot read the input file\\n"); return 3; }
  for (int q = 1; q <= 30; q++) {
    char c; long g;
    if (scanf(" %c %ld", &c, &g) != 2 || c != '?') { fprintf(stderr, "query %d: expected '? N'\\n", q); return 1; }
    if (g == x) { printf("=\\n"); fflush(stdout); fprintf(stderr, "found %ld in %d queries\\n", x, q); return 0; }
    printf(g < x ? ">\\n" : "<\\n");
    fflush(stdout);
  }
  fprintf(stderr, "more than 30 queries\\n");
  return 1;
}
`;

export const SOLUTION_CPP = `#include <iostream>
#include <string>
int main() {
  long lo = 1, hi = 1000000;
  std::string r;
  while (lo <= hi) {
    long m = (lo + hi) / 2;
    std::cout << "? " << m << std::endl;
    if (!(std::cin >> r) || r == "=") return 0;
    if (r == ">") lo = m + 1; else hi = m - 1;
  }
}
`;

const SOLUTION_PY = `lo, hi = 1, 1000000
while lo <= hi:
    m = (lo + hi) // 2
    print("?", m, flush=True)
    r = input()
    if r == "=":
        break
    if r == ">":
        lo = m + 1
    else:
        hi = m - 1
`;

const SOLUTION_JAVA = `import java.io.*;
public class Main {
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    long lo = 1, hi = 1000000;
    while (lo <= hi) {
      long m = (lo + hi) / 2;
      System.out.println("? " + m);
      System.out.flush();
      String r = in.readLine();
      if (r == null || r.equals("=")) return;
      if (r.equals(">")) lo = m + 1; else hi = m - 1;
    }
  }
}
`;

/** Guesses 1, 2, 3, …: more than 30 queries for most numbers */
const LINEAR_CPP = `#include <iostream>
#include <string>
int main() {
  std::string r;
  for (long m = 1;; m++) {
    std::cout << "? " << m << std::endl;
    if (!(std::cin >> r) || r == "=") return 0;
  }
}
`;

/** Never flushes: its query stays in its buffer while it waits for the answer (input() would flush it) */
const UNFLUSHED_PY = `import sys
print("?", 500000)
sys.stdin.readline()
`;

/** Asks once, then never reads again */
const DEAF_PY = `import time
print("? 500000", flush=True)
time.sleep(1000)
`;

const tests = [{ stdin: "1\n" }, { stdin: "1000000\n" }, { stdin: "424242\n" }];
const interactor = { language: "cpp", files: [{ path: "interactor.cpp", content: BINARY_SEARCH_INTERACTOR }], limits: { wallTimeMs: 20_000 * TIME_SCALE } };
const limits = { wallTimeMs: 3000 * TIME_SCALE, cpuTimeMs: 2000 * TIME_SCALE };

function interactive(language: string, path: string, content: string, extra: Partial<RunRequestInput> = {}): RunRequestInput {
  return { language, files: [{ path, content }], tests, interactor, limits, ...extra } as RunRequestInput;
}

describe("interactive problems: binary search", () => {
  it("accepts C++, Python and Java solutions, with the interactor's message and, when asked, the transcript", async () => {
    const cpp = await run(interactive("cpp", "main.cpp", SOLUTION_CPP, { interactor: { ...interactor, transcript: true } }));
    expect(cpp.verdict).toBe("accepted");
    expect(cpp.judge?.compile).toMatchObject({ status: "ok" });
    expect(cpp.tests?.map((test) => test.verdict)).toEqual(["accepted", "accepted", "accepted"]);
    const first = cpp.tests![0]!;
    expect(first.checkerMessage).toMatch(/^found 1 in \d+ queries\n$/);
    expect(first.interaction).toMatchObject({ idleness: false, interactor: { status: "ok", exitCode: 0 } });
    expect(first.interaction?.transcript?.toInteractor).toMatch(/^\? 500000\n\? 250000\n/);
    expect(first.interaction?.transcript?.toSolution).toMatch(/^<\n<\n.*=\n$/s);
    for (const [language, path, content] of [["python", "main.py", SOLUTION_PY], ["java", "Main.java", SOLUTION_JAVA]] as const) {
      const result = await run(interactive(language, path, content));
      expect(result.verdict, language).toBe("accepted");
      expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "accepted", "accepted"]);
      expect(result.tests![0]!.interaction?.transcript).toBeUndefined();
    }
  });

  it("gives wrong_answer to a solution that asks too often", async () => {
    const result = await run(interactive("cpp", "main.cpp", LINEAR_CPP));
    // 1 is found at once; the others take more than 30 queries
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "wrong_answer", "wrong_answer"]);
    expect(result.verdict).toBe("wrong_answer");
    expect(result.tests![1]!.checkerMessage).toBe("more than 30 queries\n");
  });

  it("ends a solution that never flushes, or stops reading, as time_limit_exceeded by idleness", async () => {
    for (const code of [UNFLUSHED_PY, DEAF_PY]) {
      const result = await run(interactive("python", "main.py", code, { tests: [{ stdin: "5\n" }] }));
      expect(result.verdict).toBe("time_limit_exceeded");
      expect(result.tests![0]).toMatchObject({ verdict: "time_limit_exceeded", status: "time_limit_exceeded", interaction: { idleness: true } });
    }
  });

  it("holds back a solution that floods an interactor that does not read (backpressure), and ends it by its wall limit", async () => {
    const deaf = `#include <unistd.h>
int main() { sleep(1000); }
`;
    const flood = "import sys\nwhile True:\n    sys.stdout.write('? 1\\n' * 1000)\n";
    const result = await run(interactive("python", "main.py", flood, { tests: [{ stdin: "5\n" }], interactor: { ...interactor, files: [{ path: "interactor.cpp", content: deaf }], limits: { wallTimeMs: 8000 * TIME_SCALE } } }));
    expect(result.tests![0]).toMatchObject({ verdict: "time_limit_exceeded", interaction: { idleness: true } });
    // what got past the interactor's launcher, its pipe and Node: a few pipe buffers, not 3 s of a flood
    expect(result.tests![0]!.stdout.length).toBeLessThan(1024 * 1024);
  });

  it("makes an interactor that crashes the judge's failure, never the contestant's", async () => {
    const crashing = `#include <cstdio>
#include <cstdlib>
int main() { char c; long g; if (scanf(" %c %ld", &c, &g) == 2) abort(); return 0; }
`;
    const result = await run(interactive("cpp", "main.cpp", SOLUTION_CPP, { interactor: { ...interactor, files: [{ path: "interactor.cpp", content: crashing }] } }));
    expect(result.verdict).toBe("internal_error");
    expect(result.error).toMatchObject({ code: "judge_failed", message: expect.stringContaining("The interactor failed on test 1") });
    expect(result.tests![0]).toMatchObject({ verdict: "internal_error", judgeFailure: "the interactor was killed by SIGABRT" });
  });

  it("reports an interactor that does not compile apart from the contestant's compile", async () => {
    const result = await run(interactive("cpp", "main.cpp", SOLUTION_CPP, { interactor: { ...interactor, files: [{ path: "interactor.cpp", content: "int main() { return nonsense; }" }] } }));
    expect(result.verdict).toBe("internal_error");
    expect(result.error).toMatchObject({ code: "judge_compile_error", message: expect.stringContaining("The interactor did not compile") });
    expect(result.judge?.compile).toMatchObject({ status: "runtime_error" });
    expect(result.compile).toMatchObject({ status: "ok" });
    expect(result.tests).toBeNull();
  });

  it("refuses an interactor without tests, or beside a checker program (400)", () => {
    const body = interactive("cpp", "main.cpp", SOLUTION_CPP);
    const { tests: _tests, ...withoutTests } = body;
    expect(() => parseRunRequest(withoutTests)).toThrow(InvalidRequestError);
    expect(() => parseRunRequest(withoutTests)).toThrow("an interactor needs tests");
    const checker = { kind: "program", language: "c", files: [{ path: "checker.c", content: "int main() { return 0; }" }] };
    expect(() => parseRunRequest({ ...body, checker })).toThrow("a checker program cannot be given beside it");
    expect(() => parseRunRequest({ ...body, interactor: { language: "cpp", files: [] } })).toThrow(InvalidRequestError);
  });
});
