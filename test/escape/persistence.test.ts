/* Outliving the job and reaching other jobs: daemons that double-fork and
 * setsid, signals to the container's init and to the worker, writes into the
 * image and /tmp. Leftovers are looked for on the host by a marker in the
 * command line that only this test uses. */
import { describe, expect, it } from "vitest";
import { job, run } from "../helpers/sandbox.js";
import { eventually } from "../helpers/eventually.js";
import { hostAction, hostProcessesWith, marker } from "./host.js";

/** Sleeps (bounded) so that a daemon that survived would have shown itself. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("daemons do not outlive their job", () => {
  const daemons: [string, string, string][] = [
    [
      "c",
      "main.c",
      `#include <stdio.h>
#include <unistd.h>
int main(void) {
  if (fork() == 0) { setsid(); if (fork() == 0) { close(0); close(1); close(2); for (;;) { FILE *f = fopen("/tmp/heartbeat", "a"); if (f) { fputs(".", f); fclose(f); } usleep(50000); } } _exit(0); }
  usleep(200000); puts("detached"); return 0;
}`,
    ],
    [
      "python",
      "main.py",
      `import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in (0, 1, 2): os.close(fd)
        while True:
            open("/tmp/heartbeat", "a").write("."); time.sleep(0.05)
    os._exit(0)
time.sleep(0.2); print("detached")`,
    ],
    [
      "javascript",
      "main.js",
      `const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["-e", "setInterval(() => require('fs').appendFileSync('/tmp/heartbeat', '.'), 50)", ...process.argv.slice(2)], { detached: true, stdio: "ignore" });
child.unref();
setTimeout(() => console.log("detached"), 200);`,
    ],
    ["bash", "main.sh", `(trap '' HUP TERM INT; setsid bash -c 'while :; do echo -n . >> /tmp/heartbeat; sleep 0.05; done' "$@" < /dev/null > /dev/null 2>&1 &) ; nohup sleep 300 "$@" > /dev/null 2>&1 &\nsleep 0.2; echo detached`],
  ];

  it.each(daemons)("%s: a double-forked, setsid daemon is gone when the job ends, and the next stage does not see it", async (language, file, program) => {
    const mark = marker(`daemon-${language}`);
    const result = await run(job(language, file, program, { args: [mark], limits: { wallTimeMs: 10_000 } }));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "detached\n" } });
    await settle();
    expect(hostProcessesWith(mark)).toEqual([]);
  });

  it("within one job, a daemon left by test 1 is dead before test 2 runs (its heartbeat file stops growing)", async () => {
    const mark = marker("stage");
    // Test 1 starts a heartbeat daemon; test 2 (the same program) sees the file and measures it twice.
    const program = `import os, time
if os.path.exists("/tmp/heartbeat"):
    a = os.path.getsize("/tmp/heartbeat"); time.sleep(0.5); b = os.path.getsize("/tmp/heartbeat")
    print("alive" if b > a else "still")
else:
    if os.fork() == 0:
        os.setsid()
        while True:
            open("/tmp/heartbeat", "a").write("."); time.sleep(0.02)
    time.sleep(0.2); print("started")`;
    const result = await run(job("python", "main.py", program, { args: [mark], tests: [{ name: "start" }, { name: "check" }] }));
    expect(result.tests?.map((test) => test.stdout)).toEqual(["started\n", "still\n"]);
    expect(hostProcessesWith(mark)).toEqual([]);
  });
});

describe("signals", () => {
  it("C: kill(-1, SIGKILL) reaches only the job's own processes; init and the program survive", async () => {
    const program = `#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t child = fork(); if (child == 0) { pause(); _exit(0); }
  usleep(100000);
  int rc = kill(-1, SIGKILL);
  int status; waitpid(child, &status, 0);
  printf("kill(-1) %d child %s\\n", rc, WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "killed" : "alive");
  printf("kill(1) %d\\n", kill(1, SIGKILL));
  printf("getppid %d\\n", getppid());
  usleep(100000); printf("init %s\\n", kill(1, 0) == 0 ? "alive" : "gone");
  return 0;
}`;
    const result = await run(job("c", "main.c", program, { tests: [{ name: "1" }, { name: "2" }] }));
    // both tests ran in the same container: init outlived the first test's kill(-1);
    // the program's parent is the container's init, which forks it
    const expected = "kill(-1) 0 child killed\nkill(1) 0\ngetppid 1\ninit alive\n";
    expect(result).toMatchObject({ verdict: "accepted" });
    expect(result.tests?.map((test) => test.stdout)).toEqual([expected, expected]);
    expect(hostAction()).toBe("host-ok\n");
  });

  it("Bash: kill -9 -1, kill of $PPID and of the worker's real pid leave the worker running", async () => {
    const script = `kill -9 -1; echo "after kill -1: $?"\nkill -9 $PPID 2>/dev/null; echo "ppid $PPID"\nkill -9 ${process.pid} 2>&1 | sed 's/^.*: //'\nkill -9 ${process.ppid} 2>&1 | sed 's/^.*: //'\necho end`;
    const result = await run(job("bash", "main.sh", script));
    // kill -1 answers 1: init could not be signalled (EPERM) though the rest was.
    // $PPID is 1, the container's init, which ignores every signal; the worker's
    // pids do not exist in the container's pid namespace.
    expect(result).toMatchObject({
      verdict: "accepted",
      run: { exitCode: 0, stdout: `after kill -1: 1\nppid 1\n(${process.pid}) - No such process\n(${process.ppid}) - No such process\nend\n` },
    });
    expect(process.kill(process.pid, 0)).toBe(true);
    const direct = await run(job("bash", "main.sh", `kill -9 ${process.pid} 2>&1 | sed 's/^.*: //'; kill -TERM ${process.ppid} 2>&1 | sed 's/^.*: //'`));
    expect(direct).toMatchObject({ verdict: "accepted", run: { stdout: `(${process.pid}) - No such process\n(${process.ppid}) - No such process\n` } });
  });
});

describe("writes never reach another job", () => {
  const writer = `for p in /tmp/x /box/x /dev/shm/x /etc/x /usr/x /usr/bin/python3 /x; do (echo planted > $p) 2>/dev/null && echo "$p written" || echo "$p refused"; done`;
  const reader = `for p in /tmp/x /box/x /dev/shm/x /etc/x /usr/x /x; do [ -e $p ] && echo "$p SEEN" || echo "$p absent"; done; head -c 4 /usr/bin/python3 | od -An -c | tr -d ' '`;

  it("the image, /tmp, /box, /dev/shm: what one job writes, the next does not see; the image's files are unchanged", async () => {
    const first = await run(job("bash", "main.sh", writer));
    // /usr is a read-only bind; the rest copies up into the job's own scratch layer, except
    // /etc when the image is owned by a uid not mapped into the sandbox (host root): refused
    const etc = first.run!.stdout.split("\n")[3]!;
    expect(["/etc/x written", "/etc/x refused"]).toContain(etc);
    expect(first.run!.stdout).toBe(["/tmp/x written", "/box/x written", "/dev/shm/x written", etc, "/usr/x refused", "/usr/bin/python3 refused", "/x written", ""].join("\n"));
    const second = await run(job("bash", "main.sh", reader));
    expect(second.run!.stdout).toBe(["/tmp/x absent", "/box/x absent", "/dev/shm/x absent", "/etc/x absent", "/usr/x absent", "/x absent", "177ELF", ""].join("\n"));
  });

  it("two jobs running at the same time do not see each other's files or processes", async () => {
    const mark = marker("peer");
    const slow = run(job("bash", "main.sh", `echo mine > /tmp/peer; exec -a ${mark} sleep 3`, { limits: { wallTimeMs: 10_000 } }));
    // the probe starts once the host sees the other job's process running (after its write)
    await eventually("the first job to be running", () => (hostProcessesWith(mark).length > 0 ? true : undefined));
    const seen = await run(job("bash", "main.sh", `[ -e /tmp/peer ] && echo SEEN || echo absent; ps -e -o args= | grep -c "^${mark}"`));
    await slow;
    // grep's own command line starts with "grep": only the other job's sleeper could match
    expect(seen.run!.stdout).toBe("absent\n0\n");
  });
});
