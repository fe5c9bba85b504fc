import { describe, expect, it } from "vitest";
import { job, run } from "../helpers/sandbox.js";

describe("limits", () => {
  it("wall time: a sleeper is time_limit_exceeded", async () => {
    const result = await run(job("python", "main.py", "import time\ntime.sleep(30)", { limits: { wallTimeMs: 1000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null } });
  });

  it("CPU time: a busy loop is time_limit_exceeded", async () => {
    const result = await run(job("python", "main.py", "while True:\n    pass", { limits: { cpuTimeMs: 500, wallTimeMs: 20000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null } });
    expect(result.run?.cpuTimeMs).toBeGreaterThanOrEqual(500);
  });

  // SECURITY.md, finding 5: without a CPU quota, nine busy threads used 4,006 ms
  // of CPU in 2,077 ms of wall time, every core of the machine for the wall limit.
  it("CPU bandwidth: busy threads get at most `cpus` CPUs' worth of time (default 1)", async () => {
    const program = [
      "#include <pthread.h>",
      "#include <unistd.h>",
      "static void *spin(void *arg) { (void)arg; for (;;) {} return 0; }",
      "int main(void) { pthread_t t; for (int i = 0; i < 9; i++) pthread_create(&t, 0, spin, 0); sleep(2); return 0; }",
    ].join("\n");
    for (const cpus of [undefined, 0.5]) {
      const result = await run(job("c", "main.c", program, { limits: { cpuTimeMs: 30_000, wallTimeMs: 30_000, ...(cpus === undefined ? {} : { cpus }) } }));
      expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok" } });
      const { cpuTimeMs, wallTimeMs } = result.run!;
      // the quota is enforced per 100 ms period: allow one period's worth over
      const quota = (cpus ?? 1) * wallTimeMs + 100;
      expect({ cpus, cpuTimeMs, wallTimeMs, withinQuota: cpuTimeMs <= quota }).toMatchObject({ cpus, withinQuota: true });
      expect(cpuTimeMs).toBeGreaterThan((cpus ?? 1) * 1000 * 0.5); // it did spin
    }
  });

  it("memory: allocating and touching past the limit is memory_limit_exceeded", async () => {
    const program = '#include <stdlib.h>\n#include <string.h>\nint main(void) { for (;;) { char *p = malloc(1 << 20); if (!p) return 2; memset(p, 1, 1 << 20); } }';
    const result = await run(job("c", "main.c", program, { limits: { memoryMb: 64 } }));
    expect(result).toMatchObject({ verdict: "memory_limit_exceeded", run: { status: "memory_limit_exceeded", exitCode: null, signal: "SIGKILL" } });
  });

  it("memory: a program under the limit is fine and its peak is reported", async () => {
    const program = "x = bytearray(b'x' * (32 * 1024 * 1024))\nprint(len(x))";
    const result = await run(job("python", "main.py", program, { limits: { memoryMb: 128 } }));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "33554432\n" } });
    expect(result.run?.memoryKb).toBeGreaterThanOrEqual(32 * 1024);
  });

  it("processes: forks stop at the pids limit", async () => {
    const program = [
      "#include <stdio.h>",
      "#include <unistd.h>",
      "int main(void) {",
      "  int n = 0;",
      "  for (int i = 0; i < 100; i++) { pid_t p = fork(); if (p < 0) break; if (p == 0) { pause(); _exit(0); } n++; }",
      '  printf("%d\\n", n);',
      "  return 0;",
      "}",
    ].join("\n");
    const result = await run(job("c", "main.c", program, { limits: { processes: 8 } }));
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0 } });
    const forked = Number(result.run?.stdout);
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThan(8);
  });

  it("processes: a fork bomb spins at the pids limit until its time is up, and the next job runs", async () => {
    const bomb = await run(job("c", "main.c", "#include <unistd.h>\nint main(void) { for (;;) fork(); }", { limits: { processes: 16, wallTimeMs: 3000 } }));
    expect(bomb).toMatchObject({ status: "completed", verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded" } });
    const after = await run(job("bash", "main.sh", "echo fine"));
    expect(after).toMatchObject({ verdict: "accepted", run: { stdout: "fine\n" } });
  });

  it("output: flooding stdout and stderr while ignoring stdin neither deadlocks nor passes", async () => {
    // os.write: unbuffered, so both pipes carry output from the first round on.
    const program = "import os\nwhile True:\n    os.write(1, b'o' * 4096)\n    os.write(2, b'e' * 4096)";
    const result = await run(job("python", "main.py", program, { stdin: "x".repeat(1 << 20), limits: { outputKb: 64, wallTimeMs: 10000 } }));
    expect(result).toMatchObject({ verdict: "output_limit_exceeded", run: { status: "output_limit_exceeded" } });
    const run_ = result.run!;
    expect(run_.stdout.length + run_.stderr.length).toBeLessThanOrEqual(64 * 1024);
    // the stream that hit the cap lost bytes; the other only if it had more in flight when the program was killed
    expect(run_.stdoutTruncated || run_.stderrTruncated).toBe(true);
  });

  it("disk: writing past diskMb fails with ENOSPC inside the program", async () => {
    const program = [
      "import errno, os",
      "try:",
      "    for i in range(100):",
      "        with open(f'/tmp/f{i}', 'wb') as f:",
      "            f.write(os.urandom(1 << 20))",
      "except OSError as e:",
      "    print(errno.errorcode[e.errno])",
      "    raise SystemExit(3)",
    ].join("\n");
    const result = await run(job("python", "main.py", program, { limits: { diskMb: 8 } }));
    expect(result).toMatchObject({ verdict: "runtime_error", run: { status: "runtime_error", exitCode: 3, stdout: "ENOSPC\n" } });
  });

  it("compile error: the compiler's output, no run", async () => {
    const result = await run(job("c", "main.c", "int main(void) { return missing; }"));
    expect(result).toMatchObject({ status: "completed", verdict: "compile_error", run: null, compile: { status: "runtime_error", exitCode: 1 } });
    expect(result.compile?.stderr).toContain("'missing' undeclared".replace(/'/g, "‘").replace("‘ undeclared", "’ undeclared"));
  });
});
