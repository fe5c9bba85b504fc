/* The steps the launcher can name when it fails (`"step"` of its
 * internal_error status) are listed once, in src/sandbox/native/steps.h, and
 * the same list is in docs/launcher.md ("Steps"). Callers match on these
 * names, so each one the TypeScript side matches on must be in that list, or
 * in the docs' list of steps the client reports itself. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");
const native = path.join(repo, "src/sandbox/native");

/** steps.h: the X(IDENTIFIER, "name", "meaning") lines of WARREN_STEPS, in order. */
function launcherSteps(): string[] {
  const text = fs.readFileSync(path.join(native, "steps.h"), "utf8").split("#define WARREN_STEPS(X)")[1]!.split("enum step")[0]!;
  return [...text.matchAll(/X\(([A-Z0-9_]+), "([^"]+)", "[^"]*"\)/g)].map((m) => m[2]!);
}

/** The first column of the markdown table that follows HEADING's paragraph in docs/launcher.md. */
function docsTable(heading: RegExp): string[] {
  const text = fs.readFileSync(path.join(repo, "docs/launcher.md"), "utf8");
  const at = text.search(heading);
  if (at < 0) throw new Error(`docs/launcher.md has no ${heading}`);
  const lines = text.slice(at).split("\n");
  const first = lines.findIndex((line) => line.startsWith("| "));
  const rows: string[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const cell = /^\| `([^`]+)` \|/.exec(line);
    if (cell) rows.push(cell[1]!);
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "native" ? [] : sourceFiles(at);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [at] : [];
  });
}

/** Step names the TypeScript side matches on or makes: `step === "x"`, `step: "x"`, `step.startsWith("x")`, `failed("x", …)`, `…_STEP = "x"`. */
function stepsInTypeScript(): { exact: Set<string>; prefixes: Set<string> } {
  const exact = new Set<string>(), prefixes = new Set<string>();
  for (const file of sourceFiles(path.join(repo, "src"))) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bstep\s*(?:===|!==|:)\s*"([^"]+)"/g)) exact.add(m[1]!);
    for (const m of text.matchAll(/\bfailed\(\s*"([^"]+)"/g)) exact.add(m[1]!);
    for (const m of text.matchAll(/\b[A-Z_]*_STEP\s*=\s*"([^"]+)"/g)) exact.add(m[1]!);
    for (const m of text.matchAll(/\bstep\.startsWith\("([^"]+)"\)/g)) prefixes.add(m[1]!);
  }
  return { exact, prefixes };
}

describe("the launcher's steps", () => {
  const steps = launcherSteps();

  it("are listed once in steps.h, and the same, in the same order, in docs/launcher.md", () => {
    expect(steps.length).toBeGreaterThan(90);
    expect(new Set(steps).size).toBe(steps.length);
    expect(docsTable(/^### Steps$/m)).toEqual(steps);
  });

  it("keep every name callers and tests rely on", () => {
    for (const name of ["options", "open-rootfs", "open-bind-source", "bind", "bind-workdir", "mount-overlay", "clone-namespaces", "setgroups",
      "cgroup-not-cgroupfs", "cgroup-enter", "chdir", "unpack", "served-request", "seccomp", "execve", "cancelled", "container-exec", "exec-helper"]) {
      expect(steps).toContain(name);
    }
  });

  it("are named by identifier in the C code, never by a string of its own", () => {
    for (const file of fs.readdirSync(native).filter((name) => name.endsWith(".c"))) {
      const text = fs.readFileSync(path.join(native, file), "utf8");
      expect({ file, literal: /fail_set\([^,]+,\s*"/.exec(text)?.[0] }).toEqual({ file, literal: undefined });
    }
  });

  it("include every step the TypeScript side matches on, or it reports itself (docs: the client's own)", () => {
    const client = docsTable(/^Steps the TypeScript container client reports itself/m);
    expect(client).toEqual(["status", "deadline", "cancelled"]);
    const known = new Set([...steps, ...client]);
    const { exact, prefixes } = stepsInTypeScript();
    // the grep must keep finding what it is for: the worker's, the client's and the doctor's
    for (const name of ["execve", "unpack", "cancelled", "status", "deadline", "mount-overlay", "seccomp"]) expect(exact).toContain(name);
    for (const name of exact) expect({ step: name, known: known.has(name) }).toEqual({ step: name, known: true });
    for (const prefix of prefixes) expect({ prefix, matches: steps.some((step) => step.startsWith(prefix)) }).toEqual({ prefix, matches: true });
  });
});
