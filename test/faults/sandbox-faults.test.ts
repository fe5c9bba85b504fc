/* Faults under a job, with the real launcher and kernel: the holding launcher
 * SIGKILLed mid-run, and a cgroup root that is missing. Each must give the
 * user a clear status and leave nothing behind. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { parentOf } from "../helpers/processes.js";
import { job, run, sandbox } from "../helpers/sandbox.js";
import { deadLauncherCgroups, hostProcessesWith, marker } from "../escape/host.js";
import { warrenBin } from "../helpers/cli.js";

describe("the holding launcher is SIGKILLed mid-run", () => {
  it("the run is internal_error naming the missing status, the program dies, nothing is left", async () => {
    await sandbox();
    const mark = marker("launcher-crash");
    const running = run(job("python", "main.py", "import time\nprint('started', flush=True)\ntime.sleep(30)", { args: [mark], limits: { wallTimeMs: 40_000, cpuTimeMs: 30_000 } }));
    // The program (its argv carries the marker) is forked by the container's
    // init, whose parent is the launcher holding the container and serving
    // its executions (`--hold`). Kill that launcher.
    const holder = await eventually("the holding launcher to run the program", () => {
      const program = hostProcessesWith(mark).filter((pid) => cmdline(pid)[0] === "python3");
      if (program.length !== 1) return undefined;
      const launcher = parentOf(parentOf(program[0]!));
      return cmdline(launcher).includes("--hold") ? launcher : undefined;
    });
    process.kill(holder, "SIGKILL");
    const result = await running;
    expect(result).toMatchObject({ status: "failed", verdict: "internal_error", run: { status: "internal_error", exitCode: null, error: { step: "status" } } });
    expect(result.run!.error!.message).toContain("without a valid status line");
    await eventually("the program to be gone", () => (hostProcessesWith(mark).length === 0 ? true : undefined), 10_000);
    // The crashed launcher could not remove its own execution cgroup: the container client does.
    expect(await deadLauncherCgroups()).toEqual([]);
  });
});

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
  } catch {
    return [];
  }
}

/**
 * `warren run` as an unprivileged user (as root, Warren makes a missing root
 * itself: there is no one to delegate to). Under root the test drops to
 * uid 65534 with setpriv; otherwise it runs as the current user.
 */
function warrenRunAsUser(root: string): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-fault-"));
  try {
    const file = path.join(dir, "main.py");
    fs.writeFileSync(file, "print('PROGRAM RAN')");
    fs.mkdirSync(path.join(dir, "data"));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) for (const p of [dir, file, path.join(dir, "data")]) fs.chownSync(p, 65534, 65534);
    const command = [process.execPath, warrenBin(), "run", file];
    const argv = asRoot ? ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", ...command] : command;
    const cli = spawnSync(argv[0]!, argv.slice(1), {
      cwd: path.resolve(import.meta.dirname, "../.."),
      env: { ...process.env, HOME: dir, WARREN_DATA_DIR: path.join(dir, "data"), WARREN_CGROUP_ROOT: root },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { status: cli.status, stdout: cli.stdout, stderr: cli.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("no usable cgroup root: nothing runs without limits", () => {
  it("a missing root: `warren run` exits 125 naming it, and the program never runs", () => {
    const missing = `/warren-missing-${randomBytes(4).toString("hex")}`;
    const cli = warrenRunAsUser(missing);
    expect(cli.stdout).not.toContain("PROGRAM RAN");
    expect(cli.stderr).toContain(`No usable delegated cgroup at ${missing}`);
    expect(cli.stderr).toContain("Warren will not run code without limits");
    expect(cli.stderr).toContain("does not exist");
    expect(cli.status).toBe(125);
  });

  it("a root that is not delegated (the hierarchy's own root, owned by root): exits 125, the program never runs", () => {
    const cli = warrenRunAsUser("/");
    expect(cli.stdout).not.toContain("PROGRAM RAN");
    expect(cli.stderr).toContain("exists but is not writable by this user");
    expect(cli.status).toBe(125);
  });
});
