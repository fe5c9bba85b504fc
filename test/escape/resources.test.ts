/* Hostile programs against the machine's capacity: fork bombs, memory bombs,
 * disk fill, output floods, sleepers and busy loops, in C, Python, Bash and
 * JavaScript, through the real pipeline (runJob). Each asserts the exact
 * verdict (or errno inside the program) and that the host is unharmed. */
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { job, run, sandbox } from "../helpers/sandbox.js";
import { deadLauncherCgroups, freeBytes, hostAction, hostProcessesWith, marker, report } from "./host.js";

const MIB = 1024 * 1024;
let cgroupsBefore: string[];
beforeAll(async () => {
  await sandbox();
  cgroupsBefore = await deadLauncherCgroups();
});
afterAll(async () => {
  // nothing leaked by this file: no cgroup of a dead launcher
  expect((await deadLauncherCgroups()).filter((dir) => !cgroupsBefore.includes(dir))).toEqual([]);
});

describe("fork bombs stop at the processes limit; the host stays responsive", () => {
  it("C: fork() fails with EAGAIN once the job holds `processes` tasks", async () => {
    const program = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  int n = 0;
  for (;;) { pid_t p = fork(); if (p < 0) { printf("%s %d\\n", errno == EAGAIN ? "EAGAIN" : strerror(errno), n); return 0; } if (p == 0) { pause(); _exit(0); } n++; }
}`;
    const result = await run(job("c", "main.c", program, { limits: { processes: 16 } }));
    // the program itself is one of the 16
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0, stdout: "EAGAIN 15\n" } });
    expect(hostAction()).toBe("host-ok\n");
  });

  it("Python: os.fork() raises BlockingIOError (EAGAIN) at the limit", async () => {
    const program = `import errno, os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60); os._exit(0)
        n += 1
except OSError as e:
    print(errno.errorcode[e.errno], n)`;
    const result = await run(job("python", "main.py", program, { limits: { processes: 12 } }));
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0, stdout: "EAGAIN 11\n" } });
    expect(hostAction()).toBe("host-ok\n");
  });

  it("Bash: the classic :(){ :|:& };: spins at the limit until the wall limit; nothing of it survives", async () => {
    const mark = marker("bashbomb");
    // the bomb, then a busy loop that needs no fork, so the job is still running at its wall limit
    const result = await run(job("bash", "main.sh", ":(){ :|:& };:\nwhile :; do :; done", { args: [mark], limits: { processes: 32, wallTimeMs: 2000, cpuTimeMs: 20_000 } }));
    expect(result).toMatchObject({ status: "completed", verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null, signal: "SIGKILL" } });
    expect(hostAction()).toBe("host-ok\n");
    expect(hostProcessesWith(mark)).toEqual([]);
    const after = await run(job("bash", "main.sh", "echo fine"));
    expect(after).toMatchObject({ verdict: "accepted", run: { stdout: "fine\n" } });
  });

  it("JavaScript: child_process.spawn fails with EAGAIN at the limit", async () => {
    const program = `const { spawn } = require("node:child_process");
let n = 0;
(function next() {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  child.once("error", (error) => { console.log(error.code, n > 0); process.exit(0); });
  child.once("spawn", () => { n++; next(); });
})();`;
    const result = await run(job("javascript", "main.js", program, { limits: { processes: 32 } }));
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0, stdout: "EAGAIN true\n" } });
    expect(hostAction()).toBe("host-ok\n");
  });
});

describe("memory bombs end as memory_limit_exceeded inside the job's cgroup", () => {
  const bombs: [string, string, string, number][] = [
    ["python", "main.py", "b = []\nwhile True: b.append(bytearray(b'x' * (1 << 20)))", 64],
    ["javascript", "main.js", "const keep = [];\nfor (;;) keep.push(Buffer.alloc(1 << 20, 1));", 128],
    ["bash", "main.sh", 's=xxxxxxxxxxxxxxxx\nwhile :; do s="$s$s"; done', 64],
  ];
  it.each(bombs)("%s: allocating without end is killed at memoryMb", async (language, file, program, memoryMb) => {
    const result = await run(job(language, file, program, { limits: { memoryMb, wallTimeMs: 20_000, cpuTimeMs: 20_000 } }));
    expect(result).toMatchObject({ verdict: "memory_limit_exceeded", run: { status: "memory_limit_exceeded", exitCode: null, signal: "SIGKILL" } });
    expect(result.run!.memoryKb).toBeLessThanOrEqual(memoryMb * 1024);
    report(`${language} memory bomb peak`, result.run!.memoryKb, memoryMb * 1024, "KiB");
    expect(hostAction()).toBe("host-ok\n");
  });

  it("C: the limit is the whole job's, not one process's: four children of 32 MiB each under 64 MiB", async () => {
    // the parent survives and exits 9 when the kernel killed one of its children
    const program = `#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 4; i++) if (fork() == 0) { volatile char *p = malloc(32 << 20); for (int k = 0; k < 32 << 20; k += 4096) p[k] = 1; sleep(2); _exit(p[4096]); }
  int killed = 0, status;
  for (int i = 0; i < 4; i++) if (wait(&status) > 0 && WIFSIGNALED(status)) killed = 1;
  return killed ? 9 : 0;
}`;
    const result = await run(job("c", "main.c", program, { limits: { memoryMb: 64, wallTimeMs: 10_000 } }));
    expect(result).toMatchObject({ verdict: "memory_limit_exceeded", run: { status: "memory_limit_exceeded" } });
    expect(result.run!.memoryKb).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("disk fill ends with ENOSPC at diskMb; the host's disks are untouched", () => {
  // Generous: other work on the machine may write meanwhile; a leak to the host
  // would cost the full GiB each program tries to write.
  const SLACK = 512 * MIB;
  const watched = [os.tmpdir(), "/"];

  const fills: [string, string, string, string][] = [
    [
      "c",
      "main.c",
      `#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  static char buf[1 << 20]; memset(buf, 'x', sizeof buf); char name[64];
  for (int i = 0; i < 1024; i++) {
    snprintf(name, sizeof name, "/box/fill%d", i); FILE *f = fopen(name, "w");
    if (!f || fwrite(buf, 1, sizeof buf, f) != sizeof buf || fclose(f) != 0) { puts(errno == ENOSPC ? "ENOSPC" : strerror(errno)); return 3; }
  }
  puts("wrote 1 GiB"); return 0;
}`,
      "ENOSPC\n",
    ],
    [
      "javascript",
      "main.js",
      `const fs = require("node:fs");
const chunk = Buffer.alloc(1 << 20, 120);
try { for (let i = 0; i < 1024; i++) fs.writeFileSync("/tmp/fill" + i, chunk); console.log("wrote 1 GiB"); }
catch (error) { console.log(error.code); process.exit(3); }`,
      "ENOSPC\n",
    ],
    ["bash", "main.sh", 'for i in $(seq 1024); do head -c 1048576 /dev/zero > /tmp/fill$i 2>/dev/null || { echo "full at $i" | sed "s/[0-9]*$/N/"; exit 3; }; done; echo "wrote 1 GiB"', "full at N\n"],
    ["python", "main.py", "import errno\ntry:\n    for i in range(1024):\n        open(f'/dev/shm/fill{i}', 'wb').write(b'x' * (1 << 20))\n    print('wrote 1 GiB')\nexcept OSError as e:\n    print(errno.errorcode[e.errno]); raise SystemExit(3)", "ENOSPC\n"],
  ];
  it.each(fills)("%s: writing 1 GiB into a 16 MB scratch", async (language, file, program, expected) => {
    const before = watched.map(freeBytes);
    const result = await run(job(language, file, program, { limits: { diskMb: 16, memoryMb: 256 } }));
    expect(result).toMatchObject({ verdict: "runtime_error", run: { status: "runtime_error", exitCode: 3, stdout: expected } });
    const after = watched.map(freeBytes);
    for (const [index, dir] of watched.entries()) expect(before[index]! - after[index]!, `free space of ${dir}`).toBeLessThan(SLACK);
  });
});

describe("output floods end as output_limit_exceeded with the capture capped", () => {
  it("C: stdout flood of binary bytes is cut at exactly outputKb", async () => {
    const program = '#include <stdio.h>\n#include <string.h>\nint main(void) { static char b[65536]; memset(b, 0xff, sizeof b); for (;;) fwrite(b, 1, sizeof b, stdout); }';
    const result = await run(job("c", "main.c", program, { limits: { outputKb: 64 } }));
    expect(result).toMatchObject({ verdict: "output_limit_exceeded", run: { status: "output_limit_exceeded", stdoutTruncated: true, stderr: "" } });
    // each invalid byte decodes to one U+FFFD
    expect(result.run!.stdout).toBe("\ufffd".repeat(64 * 1024));
  });

  it("Bash: stderr flood (yes >&2) is cut at exactly outputKb", async () => {
    const result = await run(job("bash", "main.sh", "yes flood >&2", { limits: { outputKb: 32 } }));
    expect(result).toMatchObject({ verdict: "output_limit_exceeded", run: { status: "output_limit_exceeded", stderrTruncated: true, stdout: "" } });
    expect(result.run!.stderr).toBe("flood\n".repeat(6000).slice(0, 32 * 1024));
  });

  it("JavaScript: writes in a loop are cut at exactly outputKb", async () => {
    // fs.writeSync: process.stdout.write to a pipe is asynchronous, and a loop that never yields
    // only queues its writes in the heap (it ends at the memory limit, racing the output cap)
    const result = await run(job("javascript", "main.js", 'const fs = require("fs"); for (;;) fs.writeSync(1, "z".repeat(65536));', { limits: { outputKb: 128 } }));
    expect(result).toMatchObject({ verdict: "output_limit_exceeded", run: { status: "output_limit_exceeded", stdoutTruncated: true } });
    expect(result.run!.stdout).toBe("z".repeat(128 * 1024));
  });

  it("Python: one endless line with no newline, both streams, from two processes", async () => {
    const program = "import os\nos.fork()\nwhile True: os.write(1 + os.getpid() % 2, b'q' * 8192)";
    const result = await run(job("python", "main.py", program, { limits: { outputKb: 64 } }));
    expect(result).toMatchObject({ verdict: "output_limit_exceeded", run: { status: "output_limit_exceeded" } });
    expect(result.run!.stdout.length + result.run!.stderr.length).toBe(64 * 1024);
  });
});

describe("sleepers and busy loops end at the wall and CPU limits", () => {
  it("C: a sleeper that blocks every signal is stopped at wallTimeMs", async () => {
    const program = '#include <signal.h>\n#include <unistd.h>\nint main(void) { sigset_t all; sigfillset(&all); sigprocmask(SIG_BLOCK, &all, 0); for (;;) pause(); }';
    const result = await run(job("c", "main.c", program, { limits: { wallTimeMs: 1000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null, signal: "SIGKILL" } });
    expect(result.run!.wallTimeMs).toBeGreaterThanOrEqual(1000);
    report("C signal-blocking sleeper wall time", result.run!.wallTimeMs, 1000);
  });

  it("Bash: a program that stops itself (SIGSTOP) is still ended at wallTimeMs", async () => {
    const result = await run(job("bash", "main.sh", "kill -STOP $$\necho resumed", { limits: { wallTimeMs: 1000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null, stdout: "" } });
    expect(result.run!.wallTimeMs).toBeGreaterThanOrEqual(1000);
    report("bash self-stopped wall time", result.run!.wallTimeMs, 1000);
  });

  it("JavaScript: a busy loop is stopped at cpuTimeMs", async () => {
    const result = await run(job("javascript", "main.js", "for (;;) {}", { limits: { cpuTimeMs: 700, wallTimeMs: 20_000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null } });
    expect(result.run!.cpuTimeMs).toBeGreaterThanOrEqual(700);
    report("JS busy loop CPU time", result.run!.cpuTimeMs, 700);
  });

  it("C: busy threads count together against cpuTimeMs (cgroup accounting, not one thread's)", async () => {
    const program = '#include <pthread.h>\nstatic void *spin(void *a) { for (;;) ; return a; }\nint main(void) { pthread_t t; for (int i = 0; i < 3; i++) pthread_create(&t, 0, spin, 0); spin(0); }';
    const result = await run(job("c", "main.c", program, { limits: { cpuTimeMs: 1000, wallTimeMs: 20_000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null } });
    expect(result.run!.cpuTimeMs).toBeGreaterThanOrEqual(1000);
    report(`C 4-thread busy loop CPU time (wall ${result.run!.wallTimeMs} ms)`, result.run!.cpuTimeMs, 1000);
  });

  it("Bash: busy subshells in the background count against cpuTimeMs and die with the job", async () => {
    const mark = marker("busy");
    const result = await run(job("bash", "main.sh", "for i in 1 2 3; do (while :; do :; done) & done\nwait", { args: [mark], limits: { cpuTimeMs: 1000, wallTimeMs: 20_000 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded" } });
    expect(result.run!.cpuTimeMs).toBeGreaterThanOrEqual(1000);
    expect(hostProcessesWith(mark)).toEqual([]);
    report("bash background busy loops CPU time", result.run!.cpuTimeMs, 1000);
  });

  it("Python: a sleeper is stopped at wallTimeMs", async () => {
    const result = await run(job("python", "main.py", "import time\ntime.sleep(60)", { limits: { wallTimeMs: 800 } }));
    expect(result).toMatchObject({ verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", exitCode: null } });
    expect(result.run!.wallTimeMs).toBeGreaterThanOrEqual(800);
    report("python sleeper wall time", result.run!.wallTimeMs, 800);
  });
});
