/* `warren doctor` inside a container's restrictions, made for real by
 * test/helpers/contain.c (masked /proc entries, a seccomp profile, a
 * read-only cgroup directory, uid 0 of a user namespace): it recognises the
 * container and names the runtime's options for what fails there. */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { detectCgroupDriver } from "../../src/sandbox/cgroup/index.js";
import { contained, kernelRefusesFreshProc, type Containment } from "../helpers/contain.js";
import { testEnv, TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupParents } from "../launcher/fixture.js";
import { warrenBin } from "../helpers/cli.js";

interface Item { name: string; ok: boolean; detail: string; fix?: string }
interface Report { ok: boolean; sections: { title: string; items: Item[] }[] }

const repo = path.resolve(import.meta.dirname, "../..");

function doctor(how: Containment, env: Record<string, string> = {}): Report & { items: (title: string) => Item[] } {
  const argv = contained(how, [process.execPath, warrenBin(), "doctor", "--json"]);
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd: repo, env: { ...testEnv(), ...env }, encoding: "utf8", timeout: 60_000 * TIME_SCALE });
  if (run.stdout.trim() === "") throw new Error(`doctor printed nothing (exit ${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as Report;
  return { ...report, items: (title) => report.sections.find((section) => section.title === title)?.items ?? [] };
}

const item = (items: Item[], name: RegExp) => {
  const found = items.find((entry) => name.test(entry.name));
  if (found === undefined) throw new Error(`no item ${name} in ${JSON.stringify(items.map((entry) => entry.name))}`);
  return found;
};

describe("warren doctor inside a container", () => {
  // skipped where the kernel itself allows a fresh procfs under the masks (test/helpers/contain.ts)
  it.runIf(kernelRefusesFreshProc(["/proc/keys", "/proc/timer_list"]))("masked /proc: seen in mountinfo, the fresh-/proc item and the trial fail naming podman's, Docker's and Kubernetes' options", () => {
    const report = doctor({ mask: ["/proc/keys", "/proc/timer_list"] });
    const container = report.items("container");
    expect(item(container, /^inside a container/).detail).toContain("/proc masked (/proc/keys, /proc/timer_list)");
    const proc = item(container, /fresh \/proc/);
    expect(proc.ok).toBe(false);
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(false);
    expect(trial.detail).toContain("step mount-proc failed");
    for (const fix of [proc.fix!, trial.fix!]) {
      for (const option of ["--security-opt unmask=/proc/*", "--security-opt systempaths=unconfined", "procMount: Unmasked", "WARREN_BIND_PROC=1"]) expect(fix).toContain(option);
    }
    expect(report.ok).toBe(false);
  });

  it("masked /proc with WARREN_BIND_PROC=1: the item holds and sandboxes run, saying what is degraded", () => {
    const report = doctor({ mask: ["/proc/keys"] }, { WARREN_BIND_PROC: "1" });
    expect(item(report.items("container"), /fresh \/proc/)).toMatchObject({ ok: true });
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(true);
    expect(trial.detail).toContain("degraded: WARREN_BIND_PROC=1");
    expect(item(report.items("sandbox"), /with cgroup limits/).ok).toBe(true);
  });

  it("a seccomp profile that refuses sethostname: seen (Seccomp: 2), sandboxes run with the hostname degraded", () => {
    const report = doctor({ deny: { sethostname: 1 } });
    expect(item(report.items("container"), /^inside a container/).detail).toContain("a seccomp filter (Seccomp: 2)");
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(true);
    expect(trial.detail).toContain("degraded: sethostname refused: sandboxes see this container's hostname");
  });

  it("a read-only /proc/sys (a runtime's system paths, as Docker's and podman's defaults have it): the trial fails at the user-namespace limits, naming the /proc options, not the seccomp profile", () => {
    const report = doctor({ readOnly: ["/proc/sys"] });
    expect(item(report.items("container"), /^inside a container/).detail).toContain("/proc masked (/proc/sys)");
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(false);
    expect(trial.detail).toContain("step userns-limits failed: Read-only file system");
    expect(trial.fix).toContain("/proc/sys is read-only in this container");
    for (const option of ["--security-opt unmask=/proc/*", "--security-opt systempaths=unconfined", "procMount: Unmasked"]) expect(trial.fix).toContain(option);
    expect(trial.fix).not.toContain("seccomp=warren.json");
    expect(report.ok).toBe(false);
  });

  it("a read-only /proc/sys and masks with WARREN_BIND_PROC=1 (Docker's and podman's defaults with the opt-in): sandboxes run, saying both what is bound and what goes without limits", () => {
    const report = doctor({ mask: ["/proc/keys"], readOnly: ["/proc/sys"] }, { WARREN_BIND_PROC: "1" });
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(true);
    expect(trial.detail).toContain("degraded: WARREN_BIND_PROC=1");
    expect(trial.detail).toContain("degraded: /proc/sys is read-only here");
    expect(item(report.items("sandbox"), /with cgroup limits/).ok).toBe(true);
  });

  it("a seccomp profile that refuses unshare (Docker's default): the trial fails naming the warren.json profile for each runtime", () => {
    const report = doctor({ deny: { unshare: 1, setns: 1 } });
    const trial = item(report.items("sandbox"), /^a sandbox runs \(/);
    expect(trial.ok).toBe(false);
    expect(trial.fix).toContain("--security-opt seccomp=warren.json");
    expect(trial.fix).toContain("seccompProfile: {type: Localhost, localhostProfile: warren.json}");
  });

  it("a read-only cgroup directory: seen, and its cgroup item's fix binds it read-write for each runtime", () => {
    const dir = cgroupParents[0]!;
    const report = doctor({ readOnly: [dir] });
    expect(item(report.items("container"), /^inside a container/).detail).toContain(`read-only cgroup mounts (${dir}`);
    const cgroup = item(report.items("cgroups"), new RegExp(dir.replace(/[/.*+?^${}()|[\]\\]/g, "\\$&")));
    expect(cgroup.ok).toBe(false);
    // this cgroup version's options only
    if (detectCgroupDriver().version === 1) {
      expect(cgroup.fix).toContain("-v DIR:DIR:rw");
      expect(cgroup.fix).toContain("hostPath volume");
      expect(cgroup.fix).not.toContain("cgroup v2");
    } else {
      expect(cgroup.fix).toContain("--systemd=always");
      expect(cgroup.fix).toContain("--cgroup-parent=/NAME --cgroupns=host");
      expect(cgroup.fix).not.toContain("cgroup v1");
    }
  });

  // As root, contain's namespace maps uid 0 to the host's root; as another user, to that user (scripts/test-rootless.sh runs these)
  it.runIf(process.getuid?.() === 0)("uid 0 of a user namespace that maps it to the host's root: the user item fails naming --user and runAsNonRoot", () => {
    const report = doctor({ userNamespaceRoot: true });
    expect(item(report.items("container"), /^inside a container/).detail).toMatch(/uid 0 in a user namespace \(uid_map 0 0 1\)/);
    const user = item(report.items("container"), /^the user Warren runs as/);
    expect(user.ok).toBe(false);
    expect(user.fix).toContain("--user 1000:1000");
    expect(user.fix).toContain("runAsNonRoot: true");
  });

  it.runIf(process.getuid?.() !== 0)("uid 0 of a user namespace mapped to a non-root uid (a rootless runtime's container root) with every capability dropped: the user item fails naming CAP_SETFCAP and --user", () => {
    const report = doctor({ userNamespaceRoot: true, keepCaps: 0n });
    expect(item(report.items("container"), /^inside a container/).detail).toMatch(new RegExp(`uid 0 in a user namespace \\(uid_map 0 ${process.getuid?.()} 1\\)`));
    const user = item(report.items("container"), /^the user Warren runs as/);
    expect(user.ok).toBe(false);
    expect(user.detail).toContain("needs CAP_SETFCAP");
    expect(user.fix).toContain("--cap-add=SETFCAP");
    expect(user.fix).toContain("--user 1000:1000");
  });

  it.runIf(process.getuid?.() !== 0)("uid 0 of a user namespace mapped to a non-root uid, holding CAP_SETFCAP: the user item holds, sandboxes mapped to it", () => {
    const report = doctor({ userNamespaceRoot: true, keepCaps: 1n << 31n });
    const user = item(report.items("container"), /^the user Warren runs as/);
    expect(user.ok).toBe(true);
    expect(user.detail).toContain("a rootless container's root");
  });
});
