/* Every cgroup error a clear refusal, never a stack trace (issue 16: `warren
 * run` crashed with `ENOENT mkdir /sys/fs/cgroup/memory/warren`). The
 * conditions are real: read-only binds over the cgroup directories (what a
 * container's /sys/fs/cgroup is), a root that is missing under a read-only
 * hierarchy, and a leftover cgroup holding another user's process. Each
 * command that opens the sandbox host (`run`, `serve`, `worker`) must exit
 * 125 with Warren's refusal naming the directory and what to do. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectCgroupDriver } from "../../src/sandbox/cgroup/index.js";
import { contained, type Containment } from "../helpers/contain.js";
import { testEnv, TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupParents } from "../launcher/fixture.js";
import { distModule, warrenBin } from "../helpers/cli.js";

const repo = path.resolve(import.meta.dirname, "../..");
const asRoot = process.getuid?.() === 0;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warren-cgroup-refusal-"));
const program = path.join(scratch, "main.py");
fs.writeFileSync(program, "print('PROGRAM RAN')");
fs.chmodSync(scratch, 0o755);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Outcome { status: number | null; signal: NodeJS.Signals | null; ms: number; stdout: string; stderr: string }

/** The container fix a refusal names, per this kernel's cgroup version (container-signs.ts, cgroupRuntimeFix). */
const CONTAINER_FIX = detectCgroupDriver().version === 2 ? "--systemd=always" : "-v DIR:DIR:rw";

/**
 * ARGV's exit status and output, killed after 60 s (scaled). Asynchronous: a
 * synchronous spawn blocks the test's worker, which under the cgroup v2 VM's
 * software emulation then misses vitest's own RPC deadline.
 */
function captured(argv: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const t0 = performance.now();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000 * TIME_SCALE);
    child.once("error", reject);
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, ms: Math.round(performance.now() - t0), stdout, stderr });
    });
  });
}

/** `warren ARGS` under HOW (test/helpers/contain.c), with ENV over the tests' own; as USER's uid when given (root only). */
function warren(args: string[], how: Containment, env: Record<string, string> = {}, uid?: number): Promise<Outcome> {
  const command = [process.execPath, warrenBin(), ...args];
  const user = uid === undefined ? [] : ["setpriv", "--reuid", String(uid), "--regid", String(uid), "--clear-groups"];
  return captured(contained(how, [...user, ...command]), { ...testEnv(), ...env });
}

/** A refusal: exit 125, no stack trace, the program never ran, and each of WORDS said. */
function expectRefusal(outcome: Outcome, words: string[]): void {
  expect(outcome.stdout).not.toContain("PROGRAM RAN");
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  // the whole outcome in the message: a refusal that says nothing (its status, its stdout) is otherwise a blank
  for (const word of words) expect(outcome.stderr, JSON.stringify(outcome)).toContain(word);
  expect(outcome.status).toBe(125);
}

const commands: [string, string[], Record<string, string>][] = [
  ["warren run", ["run", program], {}],
  ["warren serve", ["serve", "--port", "18099"], {}],
  // the sandbox host is opened before Redis is reached: none need listen here
  ["warren worker", ["worker"], { REDIS_URL: "redis://127.0.0.1:9" }],
];

describe("the delegated cgroup directories on a read-only mount (a container's /sys/fs/cgroup)", () => {
  for (const [name, args, env] of commands) {
    it(`${name}: refuses naming the directory, the read-only mount and the bind a container needs`, async () => {
      const outcome = await warren(args, { readOnly: cgroupParents }, env);
      // as root Warren tries to make the subtree itself (`setup-cgroups` for root) and is refused by the mount
      expectRefusal(outcome, [cgroupParents[0]!, "read-only mount", CONTAINER_FIX, "Warren will not run code without limits", "warren doctor"]);
    });
  }
});

describe("a cgroup root that is missing, under a read-only hierarchy", () => {
  // As root too nothing is tried on a read-only mount (no mkdir that could only fail): the refusal names the mount and the runtime's fix
  // Not as root either: there the mount's flags come from mountinfo, as access(W_OK) answers EACCES, not EROFS, to a user who could not write it anyway
  it("warren run: refuses naming the root, the read-only mount and the runtime's option", async () => {
    const driver = detectCgroupDriver();
    const name = `warren-missing-${randomBytes(4).toString("hex")}`;
    const root = driver.version === 2 ? path.join("/sys/fs/cgroup", name) : `/${name}`; // v2: a directory of the mount; v1: a path in each hierarchy
    const hierarchies = driver.parents(root).map((dir) => path.dirname(dir));
    const outcome = await warren(["run", program], { readOnly: hierarchies }, { WARREN_CGROUP_ROOT: root });
    expectRefusal(outcome, ["does not exist", "is on a read-only mount", CONTAINER_FIX, "setup-cgroups"]);
    if (asRoot) expect(outcome.stderr).not.toContain("EROFS");
  });
});

describe("a read-only mount seen by a user who could not write it anyway", () => {
  // access(W_OK) answers EACCES there, not EROFS; the mount's flags in mountinfo say it (probe.ts: onReadOnlyMount, used by
  // every cgroup refusal, the synchronous one of a failed mkdir included)
  const probe = async (dir: string, how: Containment, uid?: number): Promise<string> => {
    const code = `import(${JSON.stringify(distModule("sandbox/cgroup/probe.ts"))}).then((m) => console.log(m.onReadOnlyMount(process.argv[1])))`;
    const user = uid === undefined ? [] : ["setpriv", "--reuid", String(uid), "--regid", String(uid), "--clear-groups"];
    const run = await captured(contained(how, [...user, process.execPath, "-e", code, dir]), testEnv());
    expect(run.stderr).toBe("");
    return run.stdout.trim();
  };
  const dir = fs.mkdtempSync(path.join(scratch, "ro-"));
  fs.chmodSync(dir, 0o755); // root's (or the runner's) own, not writable by another uid
  const other = asRoot ? 65534 : undefined;

  it("says read-only for a read-only bind, as its owner and as another user", async () => {
    expect(await probe(dir, { readOnly: [dir] })).toBe("true");
    if (other !== undefined) expect(await probe(dir, { readOnly: [dir] }, other)).toBe("true");
  });

  it("says not read-only for a writable directory, nor for one another user may not write", async () => {
    expect(await probe(dir, {})).toBe("false");
    if (other !== undefined) expect(await probe(dir, {}, other)).toBe("false");
  });
});

/** Past any pid_max (2^22): the launcher that made this cgroup is certainly gone. */
const GONE_PID = 4_194_305;

describe("a leftover cgroup of a launcher that is gone, holding another user's process", () => {
  // It needs root to put another user's process in a subtree delegated to an
  // unprivileged one; and cgroup v1, where such a user's runner needs no
  // supervisor leaf (on v2 it would be refused before reaping).
  const v1Root = asRoot && detectCgroupDriver().version === 1;
  it.runIf(v1Root)("warren run as that user: refuses naming the cgroup and how to remove it, and kills nothing of root's", async () => {
    const driver = detectCgroupDriver();
    const root = `/warren-stale-${randomBytes(4).toString("hex")}`;
    await driver.delegate(root, 65534, 65534);
    const stale = driver.parents(root).map((dir) => path.join(dir, `warren-${GONE_PID}`));
    for (const dir of stale) fs.mkdirSync(dir);
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      for (const dir of stale) fs.writeFileSync(path.join(dir, "cgroup.procs"), String(sleeper.pid));
      fs.chownSync(scratch, 65534, 65534);
      fs.chownSync(program, 65534, 65534);
      const outcome = await warren(["run", program], {}, { WARREN_CGROUP_ROOT: root, WARREN_DATA_DIR: path.join(scratch, "data"), HOME: scratch }, 65534);
      expectRefusal(outcome, ["could not remove a cgroup that a launcher which is gone left", `warren-${GONE_PID}`, "not this user's to kill (EPERM)", "rmdir"]);
      expect(sleeper.exitCode).toBeNull();
      expect(fs.readFileSync(`/proc/${sleeper.pid}/stat`, "utf8")).not.toMatch(/^\d+ \(sleep\) [ZX]/);
    } finally {
      sleeper.kill("SIGKILL");
      await new Promise((resolve) => sleeper.once("exit", resolve));
      for (const dir of [...stale, ...driver.parents(root)]) {
        for (let attempt = 0; fs.existsSync(dir) && attempt < 100; attempt++) {
          try {
            fs.rmdirSync(dir);
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
    }
  });
});
