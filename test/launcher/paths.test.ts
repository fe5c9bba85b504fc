/* Paths the sandbox can shape (SECURITY.md, finding 4; runc's CVE-2024-21626
 * is the class). On cgroup v2 the program's process, forked into its cgroup
 * with CLONE_INTO_CGROUP, still held the host's cgroup directory when it
 * entered --chdir: a first program planted /box/sub -> /proc/self/fd/N, a
 * second with --chdir /box/sub started on the host's cgroupfs, and
 * `cd ../../../../..` reached the host's root. Now no fd of the host's is open
 * while a path is resolved, and every such path is resolved inside the
 * container's root through no /proc magic link. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupArgs, containerArgs, envArgs, image, launch, launcher, served } from "./fixture.js";

const limited = ["--memory-mb", "128", "--pids", "32", "--wall-ms", String(20_000 * TIME_SCALE), ...envArgs];
const ELOOP = 40, ENOENT = 2, ENOTDIR = 20, EINVAL = 22, EACCES = 13;
/** What a program in the wrong place would show: the directory it stands in, the root's entries, the host's marks. */
const look = "pwd; ls / | tr '\\n' ' '; echo; ls -d ../../../../../../sys/fs ../../../../../../work ../../../../../../var/lib 2>/dev/null | wc -l";

describe("a working directory the sandbox shaped", () => {
  it("never leads out through a /proc magic link planted by an earlier program, whatever fd or process it names", async () => {
    const box = await served();
    try {
      const plant = [
        "for n in $(seq 0 64); do ln -s /proc/self/fd/$n fd$n; done",
        "ln -s /proc/self/cwd cwd; ln -s /proc/self/root root; ln -s /proc/1/cwd init-cwd; ln -s /proc/1/root init-root",
        "ln -s /proc/thread-self/cwd thread-cwd; ln -s /dev/fd dev-fd; ln -s /dev/fd/3 dev-fd3",
      ].join("; ");
      expect((await box.request([...limited, "--", "sh", "-c", plant])).status).toMatchObject({ status: "ok" });
      const links = [...Array.from({ length: 65 }, (_, n) => `fd${n}`), "cwd", "root", "init-cwd", "init-root", "thread-cwd", "dev-fd3"];
      for (const link of links) {
        // a new request each time: the program forked ahead and the ones init forks afresh
        const r = await box.request([...limited, "--chdir", `/box/${link}`, "--", "sh", "-c", look]);
        expect({ link, stdout: r.stdout, status: r.status.status, step: r.status.step }).toEqual({ link, stdout: "", status: "internal_error", step: "chdir" });
        // ELOOP: a magic link; ENOENT: no such fd; ENOTDIR: not a directory; EACCES: init's /proc entries are no one's
        expect([ELOOP, ENOENT, ENOTDIR, EACCES]).toContain(r.status.errno);
      }
      // /dev/fd is a plain link to /proc/self/fd: a directory of magic links, entered, but none of them followed
      const fds = await box.request([...limited, "--chdir", "/box/dev-fd", "--", "sh", "-c", "pwd -P; cd 3 2>/dev/null && pwd -P || echo no"]);
      expect(fds.stdout).toMatch(/^\/proc\/\d+\/fd\nno\n$/);
    } finally {
      await box.close();
    }
  });

  it("stays inside the container's root through .. and absolute links", async () => {
    const box = await served();
    try {
      const plant = "ln -s ../../../../../../.. up; ln -s / abs; mkdir -p a/b; ln -s ../../../../../.. a/b/up";
      expect((await box.request([...limited, "--", "sh", "-c", plant])).status).toMatchObject({ status: "ok" });
      for (const dir of ["/box/up", "/box/abs", "/box/a/b/up", "/box/../../../..", "../../.."]) {
        const r = await box.request([...limited, "--chdir", dir, "--", "sh", "-c", look]);
        expect({ dir, status: r.status.status }).toEqual({ dir, status: "ok" });
        const [cwd, root, hostMarks] = r.stdout.split("\n");
        expect({ dir, cwd }).toEqual({ dir, cwd: "/" });
        expect(root).toContain("box");
        expect(hostMarks).toBe("0");
      }
      // an ordinary link is followed, inside the root (the image's own /bin, usr-merged or not)
      const bin = await box.request([...limited, "--chdir", "/bin", "--", "sh", "-c", "pwd -P; cd /bin && pwd -P"]);
      const [there, expected] = bin.stdout.split("\n");
      expect(there).toBe(expected);
    } finally {
      await box.close();
    }
  });

  it("in one-shot mode too, where the request is handed over while the container is being built", () => {
    for (const dir of ["/proc/self/cwd", "/proc/1/root", "/dev/fd/0", "/proc/self/fd/2"]) {
      const r = launch([...containerArgs, ...cgroupArgs, ...envArgs, "--chdir", dir], ["sh", "-c", look]);
      expect({ dir, status: r.status.status, step: r.status.step }).toEqual({ dir, status: "internal_error", step: "chdir" });
      expect([ELOOP, ENOTDIR, EACCES]).toContain(r.status.errno);
    }
    const root = launch([...containerArgs, ...cgroupArgs, ...envArgs, "--chdir", "/../../.."], ["sh", "-c", look]);
    expect(root.stdout.split("\n")[0]).toBe("/");
    expect(root.stdout.split("\n")[2]).toBe("0");
  });
});

describe("every launcher option that takes a path", () => {
  it("--rootfs, --ro-bind, --workdir, --cgroup: refused with their step when they cannot be used as given", () => {
    const cases: [string[], string, number][] = [
      [["--rootfs", "/nonexistent-rootfs"], "open-rootfs", ENOENT],
      [["--rootfs", launcher], "open-rootfs", ENOTDIR],
      [[...containerArgs, "--ro-bind", "/nonexistent-source", "/x"], "open-bind-source", ENOENT],
      [[...containerArgs, "--ro-bind", launcher, "/box/../../x"], "bind", EINVAL],
      [[...containerArgs, "--workdir", "/tmp/../../escape"], "bind-workdir", EINVAL],
      [[...containerArgs, "--cgroup", "/tmp"], "cgroup-not-cgroupfs", ENOTDIR],
    ];
    for (const [args, step, errno] of cases) {
      const r = launch([...args, ...envArgs], ["true"]);
      expect({ args, status: r.status.status, step: r.status.step, errno: r.status.errno }).toEqual({ args, status: "internal_error", step, errno });
    }
    // and a bind's destination reached through a link in the image is refused, not followed (usr-merged /lib -> usr/lib)
    const usrMerged = fs.lstatSync(path.join(image.rootfs, "lib")).isSymbolicLink();
    if (usrMerged) {
      const through = launch([...containerArgs, "--ro-bind", launcher, "/lib/x", ...envArgs], ["true"]);
      expect(through.status).toMatchObject({ status: "internal_error", step: "bind" });
    }
    const relative = launch([...containerArgs, "--workdir", "box"], ["true"]);
    expect(relative.status).toMatchObject({ status: "internal_error", step: "options" });
  });

  it("the work dir cannot be swapped for a link, so the job's files land in it", async () => {
    const { encodeJobFiles } = await import("../../src/sandbox/container/job-files.js");
    const box = await served(["--workdir", "/tmp/work"]);
    try {
      const swap = await box.request([...limited, "--", "sh", "-c", "cd /tmp; mv work old 2>&1 | grep -c busy; rm -rf work 2>/dev/null; ln -sT /proc/self/cwd work 2>&1 | grep -c exists"]);
      expect(swap.stdout).toBe("1\n1\n");
      expect((await box.request(["--unpack"], encodeJobFiles([{ path: "f", content: "x" }]))).status).toMatchObject({ status: "ok" });
      expect((await box.request([...limited, "--", "sh", "-c", "pwd; cat f"])).stdout).toBe("/tmp/work\nx");
    } finally {
      await box.close();
    }
  });
});
