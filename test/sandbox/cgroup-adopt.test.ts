/* cgroup v2: Warren takes over its own delegated cgroup as its cgroup root
 * (issue 16: a container's own cgroup behind a cgroup namespace; a systemd
 * unit's with Delegate=yes). Real kernel, real cgroups: each test makes a
 * cgroup below the delegated root this suite runs in, moves a shell into it,
 * and that shell execs `warren run`, as a container runtime or systemd would
 * start Warren in its cgroup. Only on cgroup v2 (the cgroup v2 VM, `npm run
 * test:vm`): on v1 a process's cgroup does not stop another from holding
 * children, and there is nothing to take over. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectCgroupDriver, resolveCgroupRoot } from "../../src/sandbox/cgroup/detect.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { contained } from "../helpers/contain.js";
import { TIME_SCALE, testEnv, testSettings } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

const driver = detectCgroupDriver();
const root = resolveCgroupRoot(driver, testSettings().sandbox.cgroupRoot);
const repo = path.resolve(import.meta.dirname, "../..");
/** Prints `started`, then fills 200 MiB (in C: quick under the VM's emulation too): over a 48 MB limit, the kernel's OOM killer ends it. */
const GREEDY = 'print("started", flush=True)\nb = b"x" * (200 << 20)\nprint("not killed")\n';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0).reverse()) {
    for (const child of [path.join(dir, "supervisor"), dir]) if (fs.existsSync(child)) fs.rmdirSync(child);
  }
});

/** A fresh cgroup below the suite's delegated root, removed after the test. */
function ownCgroup(): string {
  const dir = path.join(root, `adopt-${process.pid}-${made.length}`);
  fs.mkdirSync(dir);
  made.push(dir);
  return dir;
}

/** `warren run --json ARGS…` started by a shell that first moves itself into DIR (its own cgroup from then on); WRAP: what execs it there. */
async function warrenIn(dir: string, args: string[], env: NodeJS.ProcessEnv, wrap: (argv: string[]) => string[] = (argv) => argv) {
  const argv = wrap([process.execPath, warrenBin(), "run", "--json", ...args]);
  const shell = 'echo $$ > "$0/cgroup.procs" && exec "$@"';
  // not spawnSync: under the VM's emulation this takes long enough to starve vitest's worker of its own messages
  const child = spawn("sh", ["-c", shell, dir, ...argv], { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, "close")) as [number | null];
  return { status, stdout, stderr, result: /^\{/.test(stdout) ? (JSON.parse(stdout) as { run: { status: string; stdout: string } | null }) : undefined };
}

function program(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warren-adopt-")), "greedy.py");
  fs.writeFileSync(file, GREEDY);
  fs.chmodSync(path.dirname(file), 0o755);
  return file;
}

const limits = ["--memory-mb", "48", "--wall-ms", String(Math.min(20_000 * TIME_SCALE, MAX_LIMITS.wallTimeMs)), "--cpu-ms", String(Math.min(10_000 * TIME_SCALE, MAX_LIMITS.cpuTimeMs))];

// v2 only: the v1 driver has nothing to take over (see the header)
describe.runIf(driver.version === 2)("Warren in its own delegated cgroup (cgroup v2)", () => {
  it("WARREN_CGROUP_ROOT naming its own cgroup: moves itself into supervisor, enables the controllers, and its runs are limited", async () => {
    const dir = ownCgroup();
    const ran = await warrenIn(dir, [...limits, program()], { ...testEnv(), WARREN_CGROUP_ROOT: dir });
    expect(ran.stderr, ran.stdout).toBe("");
    expect(ran.result?.run, ran.stdout).toMatchObject({ status: "memory_limit_exceeded", stdout: "started\n" });
    expect(fs.readFileSync(path.join(dir, "cgroup.subtree_control"), "utf8").split(/\s+/)).toEqual(expect.arrayContaining(["memory", "pids", "cpu"]));
    expect(fs.existsSync(path.join(dir, "supervisor"))).toBe(true);
    expect(fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8")).toBe(""); // nothing left in the root itself
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("warren-"))).toEqual([]); // its executions' cgroups are gone
  });

  it("a container's own cgroup behind a cgroup namespace, WARREN_CGROUP_ROOT unset: found and taken over, runs limited", async () => {
    const dir = ownCgroup();
    const { WARREN_CGROUP_ROOT: _unset, ...env } = testEnv();
    const ran = await warrenIn(dir, [...limits, program()], env, (argv) => contained({ cgroupNamespace: true }, argv));
    expect(ran.stderr, ran.stdout).toBe("");
    expect(ran.result?.run, ran.stdout).toMatchObject({ status: "memory_limit_exceeded", stdout: "started\n" });
    // /sys/fs/cgroup/supervisor in the namespace
    expect(fs.existsSync(path.join(dir, "supervisor"))).toBe(true);
    expect(fs.readFileSync(path.join(dir, "cgroup.subtree_control"), "utf8").split(/\s+/)).toEqual(expect.arrayContaining(["memory", "pids", "cpu"]));
  });

  it("rootless podman's way: Warren as the container's root (uid 0 mapped to this user, CAP_SETFCAP alone) in its own cgroup: taken over, runs limited", async () => {
    const dir = ownCgroup();
    const { WARREN_CGROUP_ROOT: _unset, ...env } = testEnv();
    const asRoot = (argv: string[]) => contained({ cgroupNamespace: true, userNamespaceRoot: true, keepCaps: 1n << 31n }, argv);
    const ran = await warrenIn(dir, [...limits, program()], env, asRoot);
    expect(ran.stderr, ran.stdout).toBe("");
    expect(ran.result?.run, ran.stdout).toMatchObject({ status: "memory_limit_exceeded", stdout: "started\n" });
    expect(fs.existsSync(path.join(dir, "supervisor"))).toBe(true);
  });

  it("a container's own cgroup mounted read-only: refused with the runtime's fix, no stack trace, nothing changed", async () => {
    const dir = ownCgroup();
    const { WARREN_CGROUP_ROOT: _unset, ...env } = testEnv();
    const ran = await warrenIn(dir, [...limits, program()], env, (argv) => contained({ cgroupNamespace: true, readOnly: ["/sys/fs/cgroup"] }, argv));
    expect(ran.status, ran.stderr).toBe(125);
    expect(ran.stderr).toContain("/sys/fs/cgroup is on a read-only mount");
    expect(ran.stderr).not.toContain("    at ");
    expect(fs.existsSync(path.join(dir, "supervisor"))).toBe(false);
    expect(fs.readFileSync(path.join(dir, "cgroup.subtree_control"), "utf8").trim()).toBe("");
  });

  it("the same as a rootless container's root (uid 0 of a user namespace, CAP_SETFCAP): refused naming the read-only mount and the runtime's option, not an EROFS of a delegation it cannot make", async () => {
    const dir = ownCgroup();
    const { WARREN_CGROUP_ROOT: _unset, ...env } = testEnv();
    const asRoot = (argv: string[]) => contained({ cgroupNamespace: true, readOnly: ["/sys/fs/cgroup"], userNamespaceRoot: true, keepCaps: 1n << 31n }, argv);
    const ran = await warrenIn(dir, [...limits, program()], env, asRoot);
    expect(ran.status, ran.stderr).toBe(125);
    expect(ran.stderr).toContain("/sys/fs/cgroup is on a read-only mount");
    expect(ran.stderr).toContain("--systemd=always");
    expect(ran.stderr).not.toContain("EROFS");
    expect(ran.stderr).not.toContain("    at ");
    expect(fs.existsSync(path.join(dir, "supervisor"))).toBe(false);
  });
});
