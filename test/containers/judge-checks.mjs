// Judge runs against a Warren API served from a container (test/containers/run-containers.sh):
// C and Python judged accepted over several tests, a memory bomb killed at its
// memory limit, a fork bomb stopped at its processes limit.
// usage: node judge-checks.mjs BASE_URL        exit 0 when every check passed
const base = process.argv[2];
if (!base) {
  console.error("usage: node judge-checks.mjs BASE_URL");
  process.exit(2);
}

const ADD_C = `#include <stdio.h>
int main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 1; printf("%ld\\n", a + b); return 0; }`;
const ADD_PY = "print(sum(map(int, input().split())))";
const TESTS = [
  { stdin: "1 2\n", expectedOutput: "3\n" },
  { stdin: "40 2\n", expectedOutput: "42\n" },
  { stdin: "-5 5\n", expectedOutput: "0\n" },
];
const FORK_BOMB_C = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  int n = 0;
  for (;;) { pid_t p = fork(); if (p < 0) { printf("%s %d\\n", errno == EAGAIN ? "EAGAIN" : strerror(errno), n); return 0; } if (p == 0) { pause(); _exit(0); } n++; }
}`;
const MEMORY_BOMB_PY = "b = []\nwhile True: b.append(bytearray(b'x' * (1 << 20)))";

const checks = [
  {
    name: "C judged over 3 tests: accepted",
    body: { language: "c", files: [{ path: "main.c", content: ADD_C }], tests: TESTS },
    expect: (r) => r.verdict === "accepted" && r.compile?.status === "ok" && r.tests?.length === 3 && r.tests.every((t) => t.verdict === "accepted"),
  },
  {
    name: "Python judged over 3 tests: accepted",
    body: { language: "python", files: [{ path: "main.py", content: ADD_PY }], tests: TESTS },
    expect: (r) => r.verdict === "accepted" && r.tests?.length === 3 && r.tests.every((t) => t.verdict === "accepted"),
  },
  {
    name: "Python memory bomb: memory_limit_exceeded at 64 MiB",
    body: { language: "python", files: [{ path: "main.py", content: MEMORY_BOMB_PY }], limits: { memoryMb: 64, wallTimeMs: 20000, cpuTimeMs: 20000 } },
    expect: (r) => r.verdict === "memory_limit_exceeded" && r.run?.signal === "SIGKILL" && r.run.memoryKb <= 64 * 1024,
  },
  {
    name: "C fork bomb: fork() fails with EAGAIN at 16 processes",
    body: { language: "c", files: [{ path: "main.c", content: FORK_BOMB_C }], limits: { processes: 16 } },
    expect: (r) => r.verdict === "accepted" && r.run?.stdout === "EAGAIN 15\n",
  },
];

let failed = 0;
for (const check of checks) {
  let result;
  try {
    const response = await fetch(`${base}/v1/runs?wait=true`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(check.body),
      signal: AbortSignal.timeout(120_000),
    });
    result = await response.json();
  } catch (error) {
    result = { error: String(error) };
  }
  const ok = typeof check.expect === "function" && result && check.expect(result) === true;
  if (!ok) failed++;
  const summary = { verdict: result?.verdict, compile: result?.compile?.status, run: result?.run && { status: result.run.status, signal: result.run.signal, stdout: result.run.stdout, memoryKb: result.run.memoryKb }, tests: result?.tests?.map((t) => t.verdict), error: result?.error ?? result?.message };
  console.log(`${ok ? "✓" : "✗"} ${check.name}: ${JSON.stringify(summary)}`);
}
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
