// The parts of scripts/test-all.sh that run before the full suite (the rootless
// run, the cgroup v2 VM, the container runtimes, the built image) print long
// logs of their own. A CI that keeps only the end of the output would show the
// full suite's summary and not which part failed, nor why. So test-all passes
// the parts' outcomes and logs here (WARREN_TEST_ALL_PARTS), and each part is a
// test of the full suite: a part that failed fails here, its message the lines
// of its log that say so and the end of the log.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const dir = process.env.WARREN_TEST_ALL_PARTS;

interface Part {
  file: string;
  name: string;
  exit: number;
  seconds: number;
}

function readParts(where: string): Part[] {
  return fs
    .readdirSync(where)
    .filter((f) => f.endsWith(".status"))
    .sort()
    .map((f) => {
      const [name = f, exit = "", seconds = ""] = fs.readFileSync(path.join(where, f), "utf8").trimEnd().split("\t");
      return { file: path.join(where, f.replace(/\.status$/, ".log")), name, exit: Number(exit), seconds: Number(seconds) };
    });
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;?]*[a-zA-Z]|\x1bc|\r/g;
const SAYS_FAILED = /\bFAIL|\bfailed\b|✗|×|Error:|AssertionError|exit status [1-9]|timed out/i;

/**
 * What a failed part's log says, short enough to sit in the last hundred lines
 * of the output with vitest's summary: the first `keep` lines that name a
 * failure, then the last `keep` lines that are not blank.
 */
export function failureExcerpt(log: string, keep = 20): string {
  const lines = log.replace(ESCAPES, "").split("\n").filter((l) => l.trim() !== "");
  const flagged = lines.filter((l) => SAYS_FAILED.test(l));
  const tail = lines.slice(-keep);
  return [
    `lines that name a failure (${flagged.length}${flagged.length > keep ? `, the first ${keep}` : ""}):`,
    ...flagged.slice(0, keep).map((l) => `  ${l.slice(0, 300)}`),
    `the last ${tail.length} lines:`,
    ...tail.map((l) => `  ${l.slice(0, 300)}`),
  ].join("\n");
}

describe("failureExcerpt", () => {
  it("keeps the lines that name a failure and the end, without terminal escapes", () => {
    const log = ["booting", "\x1b[32mok: doctor\x1b[0m", "podman-cgv2: FAIL: run memory-limited", ...Array.from({ length: 50 }, (_, i) => `line ${i}`)].join("\n");
    const text = failureExcerpt(log, 5);
    expect(text).toContain("  podman-cgv2: FAIL: run memory-limited");
    expect(text).toContain("  line 49");
    expect(text).not.toContain("line 44\n");
    expect(text).not.toContain("\x1b");
    expect(text).not.toContain("ok: doctor");
  });
});

// Outside test-all (a plain `npx vitest run`) there are no parts to report on.
describe.skipIf(!dir)("scripts/test-all.sh's parts before the full suite (only under test-all)", () => {
  const parts = dir ? readParts(dir) : [];
  it("ran", () => {
    expect(parts.length).toBeGreaterThan(0);
  });
  for (const part of parts) {
    it(`${part.name} (${part.seconds} s)`, () => {
      if (part.exit !== 0) {
        const log = fs.existsSync(part.file) ? fs.readFileSync(part.file, "utf8") : "";
        expect.fail(`test-all's part "${part.name}" failed, exit ${part.exit}, after ${part.seconds} s\n${failureExcerpt(log)}`);
      }
      expect(part.exit).toBe(0);
    });
  }
});
