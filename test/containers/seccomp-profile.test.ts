// deploy/warren.json, the seccomp profile for running Warren in a container:
// the container ecosystem's default (podman's, from Debian's containers-common) plus exactly
// the syscalls the launcher calls that the default refuses without
// CAP_SYS_ADMIN, each commented with the launcher steps that need it.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NATIVE = path.join(ROOT, "src/sandbox/native");
const PROFILE = "deploy/warren.json";
/** The default it is made from: Debian 12's containers-common 0.50.1, installed with podman (scripts/test-all.sh installs it) */
const BASE = "/usr/share/containers/seccomp.json";
const HAVE_BASE = fs.existsSync(BASE);

/** What Warren adds, and how the launcher's C source calls each. */
const WARREN_SYSCALLS: Record<string, RegExp> = {
  clone: /syscall\(SYS_clone,/,
  unshare: /\bunshare\(CLONE_NEW/,
  mount: /\bmount\("/,
  umount2: /\bumount2\(/,
  pivot_root: /syscall\(SYS_pivot_root,/,
  setns: /\bsetns\(/,
  sethostname: /\bsethostname\(/,
};

interface Rule {
  names: string[];
  action: string;
  args: unknown[] | null;
  comment: string;
  includes: Record<string, unknown>;
  excludes: Record<string, unknown>;
}
interface Profile {
  syscalls: Rule[];
  [key: string]: unknown;
}

const read = (file: string): Profile => JSON.parse(fs.readFileSync(path.resolve(ROOT, file), "utf8")) as Profile;
const profile = read(PROFILE);
/** Warren's rules: the first ones, each commented "warren: …" (the default's comments are empty) */
const added = profile.syscalls.slice(0, profile.syscalls.findIndex((rule) => !rule.comment.startsWith("warren: ")));

/** The launcher's step names (steps.h: `X(ID, "name", "what failed")`). */
function launcherSteps(): Set<string> {
  const text = fs.readFileSync(path.join(NATIVE, "steps.h"), "utf8");
  return new Set([...text.matchAll(/X\(\w+, "([a-z0-9-]+)"/g)].map((match) => match[1] as string));
}

/** The steps a rule's comment names: `warren: step, step: why; step: why`. */
function stepsNamed(comment: string): string[] {
  expect(comment.startsWith("warren: ")).toBe(true);
  return comment
    .slice("warren: ".length)
    .split("; ")
    .flatMap((part) => (part.split(": ")[0] ?? "").split(", "));
}

describe("deploy/warren.json", () => {
  // (without Debian's containers-common, podman's default profile, there is nothing to compare with)
  it.skipIf(!HAVE_BASE)("is the default profile, unchanged and in order, after Warren's rules (needs containers-common)", () => {
    const base = read(BASE);
    const { syscalls: _profileRules, ...profileRest } = profile;
    const { syscalls: _baseRules, ...baseRest } = base;
    expect(profileRest).toEqual(baseRest);
    expect(profile.syscalls.slice(added.length)).toEqual(base.syscalls);
  });

  it("adds exactly the syscalls Warren needs, one unconditional allow each", () => {
    expect(added.map((rule) => rule.names).flat().sort()).toEqual(Object.keys(WARREN_SYSCALLS).sort());
    for (const rule of added) {
      expect(rule, rule.names.join()).toMatchObject({ action: "SCMP_ACT_ALLOW", args: [], includes: {}, excludes: {} });
      expect(rule.names).toHaveLength(1);
    }
  });

  it("puts Warren's rules before the default's rules for the same syscall (runc keeps the first rule of a syscall)", () => {
    // the default refuses sethostname and setns to a container without CAP_SYS_ADMIN: those refusals must come later
    for (const rule of added) {
      const name = rule.names[0] as string;
      const first = profile.syscalls.findIndex((candidate) => candidate.names.includes(name));
      expect(profile.syscalls[first], name).toBe(rule);
    }
    expect(profile.syscalls.slice(added.length).some((rule) => rule.names.includes("sethostname") && rule.action === "SCMP_ACT_ERRNO")).toBe(true);
  });

  it("comments each added syscall with launcher steps that exist and a launcher source that calls it", () => {
    const steps = launcherSteps();
    expect(steps.size).toBeGreaterThan(20);
    const sources = fs
      .readdirSync(NATIVE)
      .filter((file) => file.endsWith(".c"))
      .map((file) => fs.readFileSync(path.join(NATIVE, file), "utf8"))
      .join("\n");
    for (const rule of added) {
      const name = rule.names[0] as string;
      const named = stepsNamed(rule.comment);
      expect(named.length, name).toBeGreaterThan(0);
      for (const step of named) expect(steps, `${name}: step ${step}`).toContain(step);
      expect(sources, `the launcher calls ${name}`).toMatch(WARREN_SYSCALLS[name] as RegExp);
    }
  });

  it.skipIf(!HAVE_BASE)("is what scripts/seccomp-profile.sh writes from the default (needs containers-common)", () => {
    const written = execFileSync("bash", [path.join(ROOT, "scripts/seccomp-profile.sh")], { encoding: "utf8" });
    expect(written).toBe(fs.readFileSync(path.join(ROOT, PROFILE), "utf8"));
  });

  it("is shipped in the package (package.json files)", () => {
    const packed = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const files = (JSON.parse(packed) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path) ?? [];
    expect(files).toContain(PROFILE);
    expect(files).toContain("src/sandbox/native/steps.h");
  });
});
