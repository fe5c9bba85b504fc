import { describe, expect, it } from "vitest";
import type { StageResult } from "./result.js";
import { compileFailureVerdict, compiled, overallVerdict, runVerdict } from "./verdict.js";

const stage = (over: Partial<StageResult>): StageResult => ({
  status: "ok", exitCode: 0, signal: null, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false,
  cpuTimeMs: 1, wallTimeMs: 1, memoryKb: 1, ...over,
});

describe("runVerdict", () => {
  it("maps statuses and exit codes", () => {
    expect(runVerdict(stage({}))).toBe("accepted");
    expect(runVerdict(stage({}), false)).toBe("wrong_answer");
    expect(runVerdict(stage({ exitCode: 3 }))).toBe("runtime_error");
    expect(runVerdict(stage({ status: "runtime_error", exitCode: null, signal: "SIGSEGV" }))).toBe("runtime_error");
    expect(runVerdict(stage({ status: "time_limit_exceeded", exitCode: null, signal: "SIGKILL" }))).toBe("time_limit_exceeded");
    expect(runVerdict(stage({ status: "memory_limit_exceeded" }))).toBe("memory_limit_exceeded");
    expect(runVerdict(stage({ status: "output_limit_exceeded" }), false)).toBe("output_limit_exceeded");
    expect(runVerdict(stage({ status: "internal_error", exitCode: null }))).toBe("internal_error");
  });
});

describe("compile verdicts", () => {
  it("needs ok and exit 0 to go on; limits are compile errors, Warren's failures are not", () => {
    expect(compiled(stage({}))).toBe(true);
    expect(compiled(stage({ exitCode: 1 }))).toBe(false);
    expect(compileFailureVerdict(stage({ exitCode: 1 }))).toBe("compile_error");
    expect(compileFailureVerdict(stage({ status: "time_limit_exceeded" }))).toBe("compile_error");
    expect(compileFailureVerdict(stage({ status: "internal_error" }))).toBe("internal_error");
  });
});

describe("overallVerdict", () => {
  it("takes the first test that is not accepted", () => {
    expect(overallVerdict([{ verdict: "accepted" }, { verdict: "wrong_answer" }, { verdict: "time_limit_exceeded" }])).toBe("wrong_answer");
    expect(overallVerdict([{ verdict: "accepted" }])).toBe("accepted");
  });
});
