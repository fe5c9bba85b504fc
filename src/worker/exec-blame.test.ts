import { describe, expect, it } from "vitest";
import type { ExecError } from "../sandbox/container/exec-types.js";
import { blameStartFailure, ProgramStarts, settleStart, type StartContext } from "./exec-blame.js";
import type { StageResult } from "../run/result.js";

const PATH = "/usr/bin:/bin";
const context = (extra: Partial<StartContext> = {}): StartContext => ({ program: "./main", path: PATH, imagePath: PATH, startedBefore: false, afterCompile: true, ...extra });
const execve = (errno: number, extra: Partial<ExecError> = {}): ExecError => ({ step: "execve", errno, message: "m", ...extra });
const failed = (error: ExecError): StageResult => ({
  status: "internal_error", exitCode: null, signal: null, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false,
  cpuTimeMs: 0, wallTimeMs: 0, memoryKb: 0, error,
});

describe("blameStartFailure: the job's", () => {
  it.each([
    ["a missing ./main after the compile", execve(2, { path: "./main" }), context(), "no such file — the compile stage produced no ./main"],
    ["a ./main that is not executable", execve(13, { path: "./main", scratch: true }), context(), "permission denied — ./main is not executable"],
    ["garbage for ./main", execve(8, { path: "./main", scratch: true }), context(), "exec format error — the build produced no runnable program"],
    ["a ./main whose interpreter is missing", execve(2, { path: "./main", interpreter: "/usr/bin/foo", scratch: true }), context(), "no such file — its interpreter /usr/bin/foo is missing"],
    ["a link loop", execve(40, { path: "./main" }), context(), "too many levels of symbolic links — ./main is a loop of symbolic links"],
    ["an absolute path in the work dir", execve(2, { path: "/box/out/prog" }), context({ program: "/box/out/prog", afterCompile: false }), "no such file — there is no /box/out/prog"],
    ["a program in /tmp", execve(8, { path: "/tmp/x" }), context({ program: "/tmp/x", afterCompile: false }), "exec format error — /tmp/x is not a program"],
    ["a file the launcher found in the scratch", execve(8, { path: "/usr/local/bin/python3", scratch: true }), context({ program: "python3", afterCompile: false }), "exec format error — /usr/local/bin/python3 is not a program"],
    ["a name not found in the PATH the job set", execve(2), context({ program: "python3", path: "/nowhere", afterCompile: false }), 'no such file — python3 is not in PATH (the job set it to "/nowhere")'],
    ["a ./main that an earlier test removed", execve(2, { path: "./main" }), context({ startedBefore: true }), "no such file — ./main is gone; an earlier test of this job removed it"],
    ["an image program that an earlier test made unrunnable", execve(13, { path: "/usr/bin/java" }), context({ program: "java", startedBefore: true }), "permission denied — /usr/bin/java is not executable (it started in an earlier test of this job, which changed it since)"],
    ["arguments over the kernel's limit", execve(7, { path: "/usr/bin/python3" }), context({ program: "python3" }), "argument list too long — the arguments and environment are over the kernel's limit"],
    ["a relative path with a directory", execve(20, { path: "bin/x" }), context({ program: "bin/x" }), "not a directory — bin/x"],
  ])("%s", (_name, error, ctx, explanation) => {
    expect(blameStartFailure(error, ctx)).toEqual({ fault: "job", explanation });
  });
});

describe("blameStartFailure: Warren's", () => {
  it.each([
    ["the image's interpreter is missing", execve(2), context({ program: "python3" })],
    ["the image's program is not executable", execve(13, { path: "/usr/bin/python3" }), context({ program: "python3" })],
    ["the image's script has no interpreter", execve(2, { path: "/usr/bin/mono", interpreter: "/bin/sh" }), context({ program: "mono" })],
    ["an absolute path outside the scratch", execve(2, { path: "/opt/tool" }), context({ program: "/opt/tool" })],
    ["a path that leaves the work dir", execve(2, { path: "/box/../usr/bin/x" }), context({ program: "/box/../usr/bin/x" })],
    ["an errno that is not about the file", execve(12, { path: "./main", scratch: true }), context()],
    ["an errno that is not about the file, after an earlier start", execve(14, { path: "./main" }), context({ startedBefore: true })],
    ["another set-up step", { step: "rlimit-nofile", errno: 1, message: "m" }, context({ startedBefore: true })],
    ["a failure without an errno", { step: "execve", errno: null, message: "m" }, context()],
  ] as const)("%s", (_name, error, ctx) => {
    expect(blameStartFailure(error, ctx)).toEqual({ fault: "warren" });
  });
});

describe("settleStart", () => {
  it("makes the job's failure a runtime_error with no exit code and the reason on stderr, without the launcher's error", () => {
    const stage = settleStart({ ...failed(execve(8, { path: "./main" })), stderr: "before\n" }, context());
    expect(stage).toMatchObject({ status: "runtime_error", exitCode: null, signal: null, stderr: "before\nwarren: the program could not be started: exec format error — the build produced no runnable program\n" });
    expect(stage).not.toHaveProperty("error");
  });

  it("leaves Warren's failure and a stage that ran as they are", () => {
    const warren = failed(execve(2));
    expect(settleStart(warren, context({ program: "python3" }))).toBe(warren);
    const ran = { ...warren, status: "ok" as const, exitCode: 0 };
    expect(settleStart(ran, context())).toBe(ran);
  });
});

describe("ProgramStarts", () => {
  const env = { PATH };
  it("blames the job for a program (name and PATH) that started in an earlier stage", () => {
    const starts = new ProgramStarts();
    const ok: StageResult = { ...failed(execve(2)), status: "ok", exitCode: 0 };
    expect(starts.settle(failed(execve(2)), { program: "python3", env, imageEnv: env, afterCompile: false }).status).toBe("internal_error");
    expect(starts.settle(ok, { program: "python3", env, imageEnv: env, afterCompile: false })).toBe(ok);
    expect(starts.settle(failed(execve(2)), { program: "python3", env, imageEnv: env, afterCompile: false }).status).toBe("runtime_error");
    // another PATH is another lookup: not known to have started
    expect(starts.settle(failed(execve(2)), { program: "python3", env: { PATH: "/usr/bin" }, imageEnv: { PATH: "/usr/bin" }, afterCompile: false }).status).toBe("internal_error");
  });
});
