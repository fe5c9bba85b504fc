/* Served executions (docs/launcher.md, "Served execs"): a held container
 * takes exec requests on the launcher's stdin and answers in frames on its
 * stdout; the container's init forks each program. Spoken here byte for byte,
 * without the TypeScript client. */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { encodeJobFiles } from "../../src/sandbox/container/job-files.js";
import { encodeCancel } from "../../src/sandbox/container/served-frames.js";
import { eventually } from "../helpers/eventually.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupsOf, childrenOf, envArgs, processesWith, served } from "./fixture.js";

const wall = ["--wall-ms", String(20_000 * TIME_SCALE)];
const limited = ["--memory-mb", "128", "--pids", "32", ...wall, ...envArgs];

describe("served executions", () => {
  it("runs programs one after another, forked by the container's init, each in its own cgroup", async () => {
    const box = await served();
    const first = await box.request([...limited, "--", "sh", "-c", "read x; echo $x from $PPID; echo oops >&2; exit 3"], "hello\n");
    expect(first).toMatchObject({ stdout: "hello from 1\n", stderr: "oops\n", status: { status: "runtime_error", exitCode: 3 } });
    const second = await box.request([...limited, "--timings", "--", "sh", "-c", "cat /proc/self/cgroup | grep -c :/$"]);
    expect(second.status).toMatchObject({ status: "ok", exitCode: 0 });
    expect(Number(second.stdout)).toBeGreaterThan(0); // a cgroup namespace rooted at the execution's own cgroup
    expect(second.status.timings).toMatchObject({ startUs: expect.any(Number), execUs: expect.any(Number), answerUs: expect.any(Number) });
    box.child.stdin!.end();
    expect(await box.exited()).toBe(0);
    expect(cgroupsOf(box.child.pid!)).toEqual([]);
  });

  it("a program forked ahead waits for the next request; when it is gone, init forks one and nothing is lost", async () => {
    const box = await served();
    // between requests, init (pid 1 inside) has one child: the program forked ahead, in the next execution's cgroups
    const waiting = childrenOf(box.initPid);
    expect(waiting).toHaveLength(1);
    process.kill(waiting[0]!, "SIGKILL");
    await eventually("the program made ahead to be reaped", () => (childrenOf(box.initPid).length === 0 ? true : undefined));
    const ran = await box.request([...limited, "--", "sh", "-c", "echo $$ survived"]);
    expect(ran.status).toMatchObject({ status: "ok" });
    expect(ran.stdout).toMatch(/^\d+ survived\n$/);
    // after a container's first execution nothing is made ahead (most containers have no second:
    // docs/launcher.md, "The container's cgroup"); after the second's answer, a new one is forked ahead again
    expect(childrenOf(box.initPid)).toHaveLength(0);
    expect((await box.request([...limited, "--", "true"])).status).toMatchObject({ status: "ok" });
    await eventually("a program forked ahead again", () => (childrenOf(box.initPid).length === 1 ? true : undefined));
    expect(childrenOf(box.initPid)).toHaveLength(1);
    expect((await box.request([...limited, "--", "true"])).status).toMatchObject({ status: "ok" });
  });

  it("refuses a request with a container option or no program, and serves the next one", async () => {
    const box = await served();
    const bad = await box.request(["--rootfs", "/", "--", "true"]);
    expect(bad.status).toMatchObject({ status: "internal_error", step: "options", message: "--rootfs is a container option: not allowed in an exec request" });
    // an execution's cgroup is always made below the container's own
    const elsewhere = await box.request(["--cgroup", "/sys/fs/cgroup", "--", "true"]);
    expect(elsewhere.status).toMatchObject({ status: "internal_error", step: "options", message: "--cgroup is a container option: not allowed in an exec request" });
    const none = await box.request([...wall]);
    expect(none.status).toMatchObject({ status: "internal_error", step: "options" });
    const good = await box.request([...limited, "--", "true"]);
    expect(good.status).toMatchObject({ status: "ok" });
  });

  it("--unpack writes the files of its stdin into the work dir as the sandbox user, never through a planted link", async () => {
    const box = await served();
    const files = encodeJobFiles([{ path: "main.sh", content: "echo hi" }, { path: "deep/er/data.bin", content: Buffer.from([0, 1, 2, 255]) }]);
    expect((await box.request(["--unpack"], files)).status).toMatchObject({ status: "ok" });
    // owned by the sandbox user: uid 1000 inside (the launcher's default --uid), like every program
    const look = await box.request([...limited, "--", "sh", "-c", "stat -c '%n %u %a %s' main.sh deep/er/data.bin; id -u; od -An -tu1 deep/er/data.bin"]);
    expect(look.stdout).toBe("main.sh 1000 644 7\ndeep/er/data.bin 1000 644 4\n1000\n   0   1   2 255\n");
    // a name that exists is refused (O_EXCL), and so is a path through a link a program planted
    const again = await box.request(["--unpack"], encodeJobFiles([{ path: "main.sh", content: "x" }]));
    expect(again.status).toMatchObject({ status: "internal_error", step: "unpack", errno: 17 });
    expect((await box.request([...limited, "--", "ln", "-s", "/tmp", "link"])).status).toMatchObject({ status: "ok" });
    const through = await box.request(["--unpack"], encodeJobFiles([{ path: "link/planted", content: "x" }]));
    expect(through.status).toMatchObject({ status: "internal_error", step: "unpack" });
    expect((await box.request([...limited, "--", "ls", "-A", "/tmp"])).stdout).toBe("");
  });

  it("--unpack refuses a malformed stream: a bad path, a cut-off content, a program beside it", async () => {
    const box = await served();
    const entry = (path: string, content: string, claimed = content.length) =>
      Buffer.concat([Buffer.from(Uint32Array.of(path.length).buffer), Buffer.from(path), Buffer.from(Uint32Array.of(claimed).buffer), Buffer.from(content)]);
    for (const stream of [entry("../x", "a"), entry("a//b", "a"), entry(".", "a"), entry("x", "abc", 10), Buffer.from([200, 0])]) {
      expect((await box.request(["--unpack"], stream)).status).toMatchObject({ status: "internal_error", step: "unpack", errno: 22 });
    }
    expect((await box.request(["--unpack", "--", "true"])).status).toMatchObject({ status: "internal_error", step: "options" });
    expect((await box.request([...limited, "--", "sh", "-c", "ls -A; ls -A /tmp"])).stdout).toBe("x\n"); // only the cut-off file's start was written
  });

  it("--unpack-first N: the stdin's first N bytes are files written before the program runs, which reads the rest", async () => {
    const box = await served();
    const files = encodeJobFiles([{ path: "main.sh", content: "read x; echo got $x; ls" }, { path: "lib/data", content: "d" }]);
    const both = Buffer.concat([files, Buffer.from("rest\n")]);
    const ran = await box.request([...limited, "--unpack-first", String(files.length), "--", "sh", "main.sh"], both);
    expect(ran).toMatchObject({ stdout: "got rest\nlib\nmain.sh\n", status: { status: "ok", exitCode: 0 } });
    // a file that exists: the unpack fails, the program never runs, and the container serves on
    const marker = "/tmp/ran";
    const again = encodeJobFiles([{ path: "main.sh", content: "x" }]);
    const clash = await box.request([...limited, "--unpack-first", String(again.length), "--", "touch", marker], again);
    expect(clash.status).toMatchObject({ status: "internal_error", step: "unpack", errno: 17 });
    const bad = await box.request([...limited, "--unpack-first", "1", "--", "touch", marker], Buffer.from([200, 0]));
    expect(bad.status).toMatchObject({ status: "internal_error", step: "unpack", errno: 22 });
    const long = await box.request([...limited, "--unpack-first", "99", "--", "touch", marker], "short");
    expect(long.status).toMatchObject({ status: "internal_error", step: "options", message: "--unpack-first is longer than the request's stdin" });
    const alone = await box.request(["--unpack-first", "1"], "x");
    expect(alone.status).toMatchObject({ status: "internal_error", step: "options" });
    expect((await box.request([...limited, "--", "sh", "-c", `ls ${marker} 2>&1 >/dev/null | wc -l; ls lib`])).stdout).toBe("1\ndata\n");
  });

  it("a request that fails before its program starts leaves no descriptor open in the launcher", async () => {
    const box = await served();
    // (twice: after a container's first execution nothing is prepared ahead)
    for (let i = 0; i < 2; i++) expect((await box.request([...limited, "--", "true"])).status).toMatchObject({ status: "ok" });
    // the launcher prepares the next execution after answering: count once that has settled
    const open = async () => {
      const counts: number[] = [];
      while (counts.length < 5 || new Set(counts.slice(-5)).size > 1) {
        counts.push(fs.readdirSync(`/proc/${box.child.pid}/fd`).length);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return counts.at(-1);
    };
    const before = await open();
    for (let i = 0; i < 10; i++) {
      const failed = await box.request([...limited, "--chdir", "/nonexistent-dir", "--", "true"]);
      expect(failed.status).toMatchObject({ status: "internal_error", step: "chdir", errno: 2 });
      const unpacked = await box.request([...limited, "--unpack-first", "2", "--", "true"], Buffer.from([200, 0]));
      expect(unpacked.status).toMatchObject({ status: "internal_error", step: "unpack", errno: 22 });
    }
    expect((await box.request([...limited, "--", "true"])).status).toMatchObject({ status: "ok" });
    expect(await open()).toBe(before);
  });

  it("a cancel frame kills the running program and what it started; one sent while idle is ignored", async () => {
    const box = await served();
    const marker = `warren-served-cancel-${process.pid}-${Date.now()}`;
    const running = box.request([...limited, "--", "bash", "-c", `(exec -a ${marker} sleep 300 &); sleep 300`]);
    await eventually("the program to start", () => (processesWith(marker, { prefix: true }).length > 0 ? true : undefined));
    expect(processesWith(marker, { prefix: true })).toHaveLength(1);
    box.child.stdin!.write(encodeCancel());
    expect((await running).status).toMatchObject({ status: "internal_error", step: "cancelled" });
    expect(processesWith(marker, { prefix: true })).toEqual([]);
    box.child.stdin!.write(encodeCancel());
    expect((await box.request([...limited, "--", "echo", "still here"])).stdout).toBe("still here\n");
  });

  it("the caller gone mid-execution (stdin EOF): the program, the container and its cgroups go", async () => {
    const box = await served();
    const marker = `warren-served-eof-${process.pid}-${Date.now()}`;
    void box.request([...limited, "--", "bash", "-c", `exec -a ${marker} sleep 300`]);
    await eventually("the program to start", () => (processesWith(marker, { prefix: true }).length > 0 ? true : undefined));
    expect(processesWith(marker, { prefix: true })).toHaveLength(1);
    box.child.stdin!.end();
    expect(await box.exited()).toBe(0);
    expect(processesWith(marker, { prefix: true })).toEqual([]);
    expect(cgroupsOf(box.child.pid!)).toEqual([]);
  });
});
