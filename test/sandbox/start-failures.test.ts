/* A program that cannot be started is the submission's fault when the job
 * made it so (src/worker/exec-blame.ts): a runtime_error, status completed,
 * the reason on stderr, run once. Every language of the host image, through
 * the real pipeline and the in-process queue with 3 attempts, so a retry
 * would show. The image's own program missing stays Warren's failure and is
 * retried: the control that shows the count can see retries. */
import { describe, expect, it } from "vitest";
import type { RunRequestInput } from "../../src/run/request.js";
import type { Image } from "../../src/sandbox/images/host-image.js";
import type { SandboxHost } from "../../src/sandbox/sandbox-host.js";
import { ATTEMPTS, couldNotStart as said, queuedRun, SINCE as since, type QueuedRun as Queued } from "../helpers/queued-run.js";
import { job, sandbox } from "../helpers/sandbox.js";

/** BODY through the in-process queue with 3 attempts, on HOST (default: the test sandbox host). */
const queued = async (body: RunRequestInput, on?: SandboxHost): Promise<Queued> => queuedRun(body, on ?? (await sandbox()));

/** A judged job's outcome: test 1 ran and changed things, test 2 could not start; nothing retried. */
function expectSecondTestBlamed(run: Queued, explanation: string): void {
  expect(run.attempts).toBe(1);
  expect(run.metrics).toContain('warren_runs_total{status="completed",verdict="runtime_error"} 1');
  expect(run.result).toMatchObject({ status: "completed", verdict: "runtime_error" });
  expect(run.result.tests?.map((test) => [test.name, test.verdict, test.status, test.exitCode])).toEqual([
    ["1", "accepted", "ok", 0],
    ["2", "runtime_error", "runtime_error", null],
  ]);
  expect(run.result.tests?.[1]).not.toHaveProperty("error");
  expect(run.result.tests?.[1]?.stderr).toBe(said(explanation));
}

const twoTests = { tests: [{ name: "1" }, { name: "2" }] };

/* C and C++: the build's ./main. The programs are valid C and C++ alike. */
const includes = "#include <fcntl.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sys/stat.h>\n#include <unistd.h>\n";
/** TEXT as a C string literal. */
const cString = (text: string) =>
  `"${[...text].map((ch) => (ch === '"' || ch === "\\" ? `\\${ch}` : ch >= " " && ch <= "~" ? ch : `\\${ch.charCodeAt(0).toString(8).padStart(3, "0")}`)).join("")}"`;
/** A program that replaces ./main with CONTENT (mode 0755); it cannot write its own running binary (ETXTBSY), so it unlinks it first. */
const replaceWith = (content: string) =>
  `${includes}int main(void) { static const char c[] = ${cString(content)}; unlink("main"); int fd = open("main", O_WRONLY | O_CREAT | O_EXCL, 0755); if (fd < 0 || write(fd, c, sizeof c - 1) != (ssize_t)(sizeof c - 1)) return 1; return close(fd); }`;
/** A program that copies ./main with its ELF interpreter (PT_INTERP) renamed to one that does not exist. */
const loaderGone = `${includes}int main(void) {
  FILE *f = fopen("main", "rb"); if (!f) return 1;
  static char b[1 << 24]; size_t n = fread(b, 1, sizeof b, f); fclose(f);
  const char *ld = "/lib64/ld-linux-x86-64.so.2"; char *p = (char *)memmem(b, n, ld, strlen(ld)); if (!p) return 2;
  memset(p, 0, strlen(ld)); memcpy(p, "/no/such/ld.so", 14);
  unlink("main"); int fd = open("main", O_WRONLY | O_CREAT | O_EXCL, 0755);
  if (fd < 0 || write(fd, b, n) != (ssize_t)n) return 3; return close(fd); }`;

const cases: [string, string, string][] = [
  ["deletes ./main", `${includes}int main(void) { return unlink("main"); }`, "no such file — ./main is gone; an earlier test of this job removed it"],
  ["makes ./main not executable", `${includes}int main(void) { return chmod("main", 0644); }`, `permission denied — ./main is not executable${since}`],
  ["overwrites ./main with bytes (ENOEXEC)", replaceWith("\x01\x02\x03 not a program\n"), `exec format error — ./main is not a program${since}`],
  ["puts a #! script with a missing interpreter in place of ./main", replaceWith("#!/usr/bin/no-such-interpreter\necho hi\n"), `no such file — its interpreter /usr/bin/no-such-interpreter is missing${since}`],
  ["gives ./main an ELF interpreter that does not exist", loaderGone, `no such file — its interpreter /no/such/ld.so is missing${since}`],
  ["replaces ./main with a directory", `${includes}int main(void) { return unlink("main") || mkdir("main", 0755); }`, `permission denied — ./main is not executable${since}`],
  ["replaces ./main with a link to itself (ELOOP)", `${includes}int main(void) { return unlink("main") || symlink("main", "main"); }`, `too many levels of symbolic links — ./main is a loop of symbolic links${since}`],
  ["replaces ./main with a link to the container's init", `${includes}int main(void) { return unlink("main") || symlink("/proc/1/exe", "main"); }`, `permission denied — ./main is not executable${since}`],
];

describe.each([
  ["c", "main.c", "-onowhere.c"],
  ["cpp", "main.cpp", "-onowhere.cpp"],
])("%s: the build's ./main", (language, source, elsewhere) => {
  it("a build that writes its program elsewhere (a source named -o…): no ./main is the run's runtime_error, run once", async () => {
    const hello = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }';
    const run = await queued({ language, files: [{ path: source, content: hello }, { path: elsewhere, content: "" }] });
    expect(run.attempts).toBe(1);
    expect(run.metrics).toContain('warren_runs_total{status="completed",verdict="runtime_error"} 1');
    expect(run.result).toMatchObject({ status: "completed", verdict: "runtime_error", compile: { status: "ok", exitCode: 0 }, run: { status: "runtime_error", exitCode: null, signal: null, stdout: "" } });
    expect(run.result.run).not.toHaveProperty("error");
    expect(run.result.run?.stderr).toBe(said("no such file — the compile stage produced no ./main"));
  });

  it.each(cases)("test 1 %s: test 2 is a runtime_error, run once", async (_name, program, explanation) => {
    expectSecondTestBlamed(await queued(job(language, source, program, twoTests)), explanation);
  });
});

describe("java: the build's classes, started by the image's java", () => {
  it("a source without class Main compiles; java's own error is the run's runtime_error, run once", async () => {
    const run = await queued(job("java", "Main.java", "class Other { public static void main(String[] args) { } }"));
    expect(run.attempts).toBe(1);
    expect(run.result).toMatchObject({ status: "completed", verdict: "runtime_error", compile: { status: "ok" }, run: { status: "runtime_error", exitCode: 1 } });
    expect(run.result.run?.stderr).toContain("Could not find or load main class Main");
  });

  it.each([
    ["deletes Main.class", 'new java.io.File("Main.class").delete();', "Could not find or load main class Main"],
    ["overwrites Main.class with bytes", 'java.nio.file.Files.write(java.nio.file.Path.of("Main.class"), new byte[] { 1, 2, 3 });', "ClassFormatError"],
  ])("test 1 %s: test 2 is java's runtime_error, run once", async (_name, statement, error) => {
    const run = await queued(job("java", "Main.java", `public class Main { public static void main(String[] args) throws Exception { ${statement} } }`, twoTests));
    expect(run.attempts).toBe(1);
    expect(run.result).toMatchObject({ status: "completed", verdict: "runtime_error" });
    expect(run.result.tests?.map((test) => [test.verdict, test.status, test.exitCode])).toEqual([["accepted", "ok", 0], ["runtime_error", "runtime_error", 1]]);
    expect(run.result.tests?.[1]?.stderr).toContain(error);
  });
});

/* Interpreted languages (and java's run): the run command names the image's
 * interpreter, which the job cannot change in the host image (/usr is a
 * read-only bind); what the job decides is the PATH it is looked up in. */
const interpreters: [string, string, string, string][] = [
  ["python", "main.py", "python3", 'import os\nfd = os.open("/box/python3", os.O_WRONLY | os.O_CREAT, 0o755)\nos.write(fd, b"\\x01\\x02 not a program\\n")'],
  ["javascript", "main.js", "node", 'require("fs").writeFileSync("/box/node", "\\x01\\x02 not a program\\n", { mode: 0o755 });'],
  ["bash", "main.sh", "bash", "printf '\\001\\002 not a program\\n' > /box/bash; chmod 755 /box/bash"],
  ["java", "Main.java", "java", 'public class Main { public static void main(String[] args) throws Exception { java.nio.file.Files.write(java.nio.file.Path.of("/box/java"), new byte[] { 1, 2, 10 }); new java.io.File("/box/java").setExecutable(true); } }'],
];

describe.each(interpreters)("%s: the interpreter's lookup", (language, source, interpreter, plant) => {
  it("a PATH the job set that hides the interpreter: runtime_error, run once", async () => {
    const run = await queued(job(language, source, plant, { env: { PATH: "/nowhere" } }));
    expect(run.attempts).toBe(1);
    expect(run.result).toMatchObject({ status: "completed", verdict: "runtime_error", run: { status: "runtime_error", exitCode: null, stdout: "" } });
    expect(run.result.run?.stderr).toBe(said(`no such file — ${interpreter} is not in PATH (the job set it to "/nowhere")`));
  });

  it("test 1 plants garbage named after the interpreter in the job's PATH: test 2 is a runtime_error, run once", async () => {
    const run = await queued(job(language, source, plant, { env: { PATH: "/box:/usr/bin:/bin" }, ...twoTests }));
    expectSecondTestBlamed(run, `exec format error — /box/${interpreter} is not a program${since}`);
  });
});

describe("the image's own program", () => {
  it("a submission's #! line does not matter when the run command names the image's interpreter", async () => {
    const run = await queued(job("bash", "main.sh", "#!/no/such/interpreter\necho ran"));
    expect(run.result).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "ran\n" } });
  });

  it("missing from the image is Warren's failure: internal_error, status failed, retried", async () => {
    const env = await sandbox();
    // The host image with python's run command naming an interpreter the image does not have.
    const broken: Image = { ...env.image, languages: env.image.languages.map((language) => (language.id === "python" ? { ...language, run: ["no-such-python3", "{source}"] } : language)) };
    const run = await queued(job("python", "main.py", 'print("hi")'), { image: broken, cgroups: env.cgroups, launcher: env.launcher });
    expect(run.attempts).toBe(ATTEMPTS);
    expect(run.metrics).toContain(`warren_runs_total{status="failed",verdict="internal_error"} ${ATTEMPTS}`);
    expect(run.result).toMatchObject({ status: "failed", verdict: "internal_error", run: { status: "internal_error", exitCode: null, error: { step: "execve", errno: 2 } } });
    expect(run.result.run?.error).not.toHaveProperty("path");
  });
});
