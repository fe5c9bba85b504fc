/* Many hostile jobs at once through runJob: each still gets its own exact
 * verdict, the well-behaved ones among them their exact output, and nothing
 * leaks afterwards. */
import { expect, it } from "vitest";
import type { RunRequestInput } from "../../src/run/request.js";
import type { Verdict } from "../../src/run/result.js";
import { job, run, sandbox } from "../helpers/sandbox.js";
import { deadLauncherCgroups, hostAction, hostProcessesWith, marker } from "./host.js";

interface Case {
  readonly name: string;
  readonly body: RunRequestInput;
  readonly verdict: Verdict;
  readonly stdout?: string;
}

it("a concurrent batch of fork bombs, memory bombs, floods, sleepers, busy loops, disk fills, daemons and honest jobs", async () => {
  await sandbox();
  const cgroupsBefore = await deadLauncherCgroups();
  const mark = marker("batch");
  // honest jobs get a generous wall limit: the batch loads the machine on purpose
  const calm = { wallTimeMs: 30_000, cpuTimeMs: 10_000 };
  const cases: Case[] = [
    { name: "fork bomb", body: job("c", "main.c", "#include <unistd.h>\nint main(void) { for (;;) fork(); }", { args: [mark], limits: { processes: 16, wallTimeMs: 2000 } }), verdict: "time_limit_exceeded" },
    { name: "memory bomb", body: job("python", "main.py", "b = []\nwhile True: b.append(bytearray(b'x' * (1 << 20)))", { args: [mark], limits: { memoryMb: 64, ...calm } }), verdict: "memory_limit_exceeded" },
    { name: "output flood", body: job("bash", "main.sh", "yes", { args: [mark], limits: { outputKb: 16, ...calm } }), verdict: "output_limit_exceeded" },
    { name: "sleeper", body: job("python", "main.py", "import time\ntime.sleep(60)", { args: [mark], limits: { wallTimeMs: 1500 } }), verdict: "time_limit_exceeded" },
    { name: "busy loop", body: job("javascript", "main.js", "for (;;) {}", { args: [mark], limits: { cpuTimeMs: 500, wallTimeMs: 30_000 } }), verdict: "time_limit_exceeded" },
    { name: "disk fill", body: job("bash", "main.sh", "head -c 100000000 /dev/zero > /tmp/fill 2>/dev/null || exit 3", { args: [mark], limits: { diskMb: 8, ...calm } }), verdict: "runtime_error" },
    { name: "daemon", body: job("bash", "main.sh", "(setsid sleep 300 &); echo bye", { args: [mark], limits: calm }), verdict: "accepted", stdout: "bye\n" },
    { name: "kill -9 -1", body: job("bash", "main.sh", "kill -9 -1; echo survived", { args: [mark], limits: calm }), verdict: "accepted", stdout: "survived\n" },
    ...Array.from({ length: 6 }, (_, i): Case => ({
      name: `honest ${i}`,
      body: i % 2 === 0 ? job("python", "main.py", `print(${i} * 7)`, { limits: calm }) : job("c", "main.c", `#include <stdio.h>\nint main(void) { printf("%d\\n", ${i} * 7); return 0; }`, { limits: calm }),
      verdict: "accepted",
      stdout: `${i * 7}\n`,
    })),
  ];
  const results = await Promise.all(cases.map((c) => run(c.body)));
  const got = results.map((result, i) => ({ name: cases[i]!.name, verdict: result.verdict, ...(cases[i]!.stdout === undefined ? {} : { stdout: result.run?.stdout }) }));
  const expected = cases.map((c) => ({ name: c.name, verdict: c.verdict, ...(c.stdout === undefined ? {} : { stdout: c.stdout }) }));
  expect(got).toEqual(expected);
  expect(hostAction()).toBe("host-ok\n");
  expect(hostProcessesWith(mark)).toEqual([]);
  expect((await deadLauncherCgroups()).filter((dir) => !cgroupsBefore.includes(dir))).toEqual([]);
}, 120_000);
