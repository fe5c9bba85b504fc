import { describe, expect, it } from "vitest";
import type { RunResult, StageResult } from "../run/result.js";
import { exitCodeOf } from "./exit-code.js";

const stage = (over: Partial<StageResult>): StageResult => ({
  status: "ok", exitCode: 0, signal: null, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false,
  cpuTimeMs: 0, wallTimeMs: 0, memoryKb: 0, ...over,
});
const result = (over: Partial<RunResult>): RunResult => ({
  id: "x", status: "completed", language: "c", version: "1", verdict: "accepted", compile: null, run: stage({}), tests: null, ...over,
});

describe("exitCodeOf", () => {
  it("follows API.md", () => {
    expect(exitCodeOf(result({}))).toBe(0);
    expect(exitCodeOf(result({ verdict: "runtime_error", run: stage({ exitCode: 3 }) }))).toBe(3);
    expect(exitCodeOf(result({ verdict: "runtime_error", run: stage({ status: "runtime_error", exitCode: null, signal: "SIGSEGV" }) }))).toBe(139);
    expect(exitCodeOf(result({ verdict: "time_limit_exceeded", run: stage({ status: "time_limit_exceeded", exitCode: null, signal: "SIGKILL" }) }))).toBe(124);
    expect(exitCodeOf(result({ verdict: "memory_limit_exceeded", run: stage({ status: "memory_limit_exceeded", exitCode: null, signal: "SIGKILL" }) }))).toBe(137);
    expect(exitCodeOf(result({ verdict: "compile_error", run: null, compile: stage({ exitCode: 1 }) }))).toBe(1);
    expect(exitCodeOf(result({ status: "failed", verdict: "internal_error", run: null }))).toBe(125);
  });
});
