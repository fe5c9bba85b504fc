import type { ExecLimits, ExecResult } from "../sandbox/container/exec-types.js";
import type { Limits } from "../run/limits.js";
import type { OutputOmitted, StageResult } from "../run/result.js";

/** A stage's limits in the launcher's terms. The disk limit doubles as the largest file. */
export function execLimits(limits: Limits): ExecLimits {
  return {
    wallTimeMs: limits.wallTimeMs,
    cpuTimeMs: limits.cpuTimeMs,
    memoryMb: limits.memoryMb,
    processes: limits.processes,
    outputKb: limits.outputKb,
    openFiles: limits.openFiles,
    fileSizeMb: limits.diskMb,
    cpus: limits.cpus,
  };
}

/**
 * An ExecResult as API.md's StageResult (output decoded as UTF-8). The
 * bytes the execution did not keep (past its keepBytes) are reported as
 * dropped for `reason`.
 */
export function toStageResult(result: ExecResult, reason: OutputOmitted["reason"] = "result_budget"): StageResult {
  return {
    status: result.status,
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout.toString("utf8"),
    stderr: result.stderr.toString("utf8"),
    stdoutTruncated: result.stdoutTruncated,
    stderrTruncated: result.stderrTruncated,
    cpuTimeMs: result.cpuTimeMs,
    wallTimeMs: result.wallTimeMs,
    memoryKb: result.memoryKb,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.stdoutDropped + result.stderrDropped === 0 ? {} : { outputOmitted: { reason, stdoutBytes: result.stdoutDropped, stderrBytes: result.stderrDropped } }),
  };
}
