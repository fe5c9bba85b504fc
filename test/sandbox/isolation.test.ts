import { describe, expect, it } from "vitest";
import { job, run } from "../helpers/sandbox.js";
import { processesWith as hostProcessesWith } from "../helpers/processes.js";

describe("isolation between and after jobs", () => {
  it("writes vanish with the job: the next job sees none of them", async () => {
    const write = await run(job("bash", "main.sh", "echo secret > /tmp/marker && echo secret > /box/marker && echo secret > ~/marker2 && echo written"));
    expect(write).toMatchObject({ verdict: "accepted", run: { stdout: "written\n" } });
    const read = await run(job("bash", "main.sh", "for f in /tmp/marker /box/marker /box/marker2; do [ -e $f ] && echo present || echo absent; done"));
    expect(read).toMatchObject({ verdict: "accepted", run: { stdout: "absent\nabsent\nabsent\n" } });
  });

  it("no process outlives its job, daemonized or not", async () => {
    const marker = `86${process.pid}.${Date.now() % 100000}`;
    const script = `setsid sleep ${marker} < /dev/null > /dev/null 2>&1 &\nnohup sleep ${marker} > /dev/null 2>&1 &\n(trap '' TERM HUP; exec sleep ${marker}) &\necho started`;
    const result = await run(job("bash", "main.sh", script));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "started\n" } });
    expect(hostProcessesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it("a job's stage cannot leave a process for the next stage of the same job", async () => {
    const marker = `87${process.pid}.${Date.now() % 100000}`;
    const result = await run(
      job("bash", "main.sh", `if [ -e /tmp/started ]; then pgrep -f ${marker} >/dev/null && echo survived || echo gone; else touch /tmp/started; setsid sleep ${marker} & echo first; fi`, {
        tests: [{ name: "1" }, { name: "2" }],
      }),
    );
    expect(result.tests?.map((test) => test.stdout)).toEqual(["first\n", "gone\n"]);
  });
});
