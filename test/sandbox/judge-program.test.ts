import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from "../../src/run/limits.js";
import { findLanguage } from "../../src/sandbox/images/languages.js";
import { JudgeProgram, type JudgePreparation } from "../../src/worker/judge-program.js";
import { sandbox } from "../helpers/sandbox.js";

const opened: JudgeProgram[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((program) => program.destroy()));
});

async function prepare(language: string, path: string, source: string, limits = DEFAULT_RUN_LIMITS): Promise<JudgePreparation> {
  const host = await sandbox();
  const prepared = await JudgeProgram.prepare(
    {
      language: findLanguage(host.image.languages, language),
      files: [{ path, content: Buffer.from(source) }],
      limits,
      compileLimits: DEFAULT_COMPILE_LIMITS,
      runFilesBytes: 1024 * 1024,
    },
    host,
  );
  if (prepared.program !== null) opened.push(prepared.program);
  return prepared;
}

// Prints its arguments, the first file's content, and what is left of the runs' directories; exits with the second file's number.
const echoJudge = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("%s\\n", argv[i]);
  FILE *f = fopen(argv[1], "r"); char line[256] = "";
  if (f == NULL || fgets(line, sizeof line, f) == NULL) return 9;
  printf("input=%s\\n", line);
  FILE *g = fopen(argv[2], "r"); int code = 0;
  if (g == NULL || fscanf(g, "%d", &code) != 1) return 9;
  FILE *ls = popen("ls .warren-runs", "r"); char entry[64];
  while (ls != NULL && fgets(entry, sizeof entry, ls) != NULL) printf("dir %s", entry);
  return code;
}
`;

describe("JudgeProgram (the judge program API)", () => {
  it("compiles once, then runs many times, each run given its files (as the first arguments) and args; a run's files are gone by the next", async () => {
    const prepared = await prepare("c", "judge.c", echoJudge);
    expect(prepared.compile).toMatchObject({ status: "ok", exitCode: 0 });
    const program = prepared.program;
    if (program === null) throw new Error("the judge did not compile");
    const first = await program.run({ files: [{ name: "input", content: Buffer.from("one\n") }, { name: "code", content: Buffer.from("0") }], args: ["extra"] });
    expect(first).toMatchObject({ status: "ok", exitCode: 0 });
    expect(first.stdout.toString()).toBe(".warren-runs/1/input\n.warren-runs/1/code\nextra\ninput=one\n\ndir 1\n");
    const second = await program.run({ files: [{ name: "input", content: Buffer.from("two\n") }, { name: "code", content: Buffer.from("7") }] });
    expect(second).toMatchObject({ status: "runtime_error", exitCode: 7, signal: null });
    // the first run's directory was removed as the second started
    expect(second.stdout.toString()).toBe(".warren-runs/2/input\n.warren-runs/2/code\ninput=two\n\ndir 2\n");
  });

  it("runs an interpreted judge (no compile stage); its files arrive with its first run", async () => {
    const prepared = await prepare("python", "judge.py", "import sys\nprint(open(sys.argv[1]).read().upper(), end='')\nsys.exit(3)\n");
    expect(prepared.compile).toBeNull();
    const result = await prepared.program?.run({ files: [{ name: "input", content: Buffer.from("abc") }] });
    expect(result).toMatchObject({ status: "runtime_error", exitCode: 3, signal: null });
    expect(result?.stdout.toString()).toBe("ABC");
  });

  it("reports a judge that does not compile as its compile stage, with no program", async () => {
    const prepared = await prepare("c", "judge.c", "int main(void) { return syntax error; }");
    expect(prepared.program).toBeNull();
    expect(prepared.compile).toMatchObject({ status: "runtime_error", exitCode: 1 });
    expect(prepared.compile?.stderr).toContain("error");
  });

  it("runs the judge under its own limits: a loop ends as time_limit_exceeded, a crash as a signal", async () => {
    const prepared = await prepare("c", "judge.c", "#include <string.h>\nint main(int argc, char **argv) { if (strcmp(argv[1], '.warren-runs/1/loop') == 0) for (;;); return *(volatile int *)0; }".replaceAll("'", '"'), {
      ...DEFAULT_RUN_LIMITS,
      cpuTimeMs: 300,
      wallTimeMs: 1000,
    });
    const program = prepared.program;
    if (program === null) throw new Error("the judge did not compile");
    expect(await program.run({ files: [{ name: "loop", content: Buffer.alloc(0) }] })).toMatchObject({ status: "time_limit_exceeded" });
    expect(await program.run({ files: [{ name: "crash", content: Buffer.alloc(0) }] })).toMatchObject({ status: "runtime_error", signal: "SIGSEGV" });
  });

  it("refuses a run file name that is not one plain segment", async () => {
    const prepared = await prepare("python", "judge.py", "pass\n");
    expect(() => prepared.program?.run({ files: [{ name: "../escape", content: Buffer.alloc(0) }] })).toThrow(/one plain segment/);
  });
});
