import { describe, expect, it } from "vitest";
import { parseStatusLine, readyLineSchema, readyPid, signalName, statusLineSchema } from "./launch-status.js";

describe("parseStatusLine", () => {
  it("parses a finished execution", () => {
    const line = '{"status":"ok","exitCode":0,"signal":null,"cpuTimeMs":1.2,"wallTimeMs":3.4,"memoryKb":812,"oomKilled":false,"stdoutBytes":6,"stderrBytes":0,"outputTruncated":false,"stdoutTruncated":false,"stderrTruncated":true}';
    expect(parseStatusLine(`${line}\n`)).toEqual({
      status: "ok", exitCode: 0, signal: null, cpuTimeMs: 1.2, wallTimeMs: 3.4, memoryKb: 812,
      oomKilled: false, stdoutBytes: 6, stderrBytes: 0, outputTruncated: false, stdoutTruncated: false, stderrTruncated: true,
    });
  });

  it("parses a launcher failure", () => {
    expect(parseStatusLine('{"status":"internal_error","step":"mount-overlay","errno":1,"message":"Operation not permitted"}')).toEqual({
      status: "internal_error", step: "mount-overlay", errno: 1, message: "Operation not permitted",
    });
  });

  it("parses an execve failure with the file, its interpreter and whether it is the job's", () => {
    expect(parseStatusLine('{"status":"internal_error","step":"execve","errno":2,"message":"No such file or directory","path":"./main","interpreter":"/usr/bin/foo","scratch":true}')).toEqual({
      status: "internal_error", step: "execve", errno: 2, message: "No such file or directory", path: "./main", interpreter: "/usr/bin/foo", scratch: true,
    });
  });

  it("refuses a missing line, bad JSON, and an exit code on a failure-shaped line", () => {
    expect(parseStatusLine("")).toBeUndefined();
    expect(parseStatusLine("{not json")).toBeUndefined();
    expect(parseStatusLine('{"status":"exploded"}')).toBeUndefined();
  });
});

describe("parseStatusLine's result lines without zod", () => {
  // The common result line is read by hand (resultLineAsLaunched); every line must come out as the schema says.
  const full = { status: "ok", exitCode: 0, signal: null, cpuTimeMs: 1.2, wallTimeMs: 3.4, memoryKb: 812, oomKilled: false, stdoutBytes: 6, stderrBytes: 0, outputTruncated: false, stdoutTruncated: false, stderrTruncated: false };
  const variants: Record<string, unknown>[] = [
    full,
    { ...full, status: "runtime_error", exitCode: 1 },
    { ...full, status: "time_limit_exceeded", exitCode: null, signal: "SIGKILL" },
    { ...full, status: "memory_limit_exceeded", exitCode: null, signal: 9, oomKilled: true },
    { ...full, status: "output_limit_exceeded", outputTruncated: true, stdoutTruncated: true, stderrTruncated: true },
    { ...full, extra: "dropped", cpuTimeMs: 0, wallTimeMs: 0, memoryKb: 0 },
    // defaults
    { status: "ok", exitCode: 0, signal: null, cpuTimeMs: 1, wallTimeMs: 2, memoryKb: 3 },
    // refused, or decided by the schema
    { ...full, status: "exploded" },
    { ...full, status: "internal_error" },
    { ...full, exitCode: 1.5 },
    { ...full, exitCode: 2 ** 60 },
    { ...full, exitCode: "0" },
    { ...full, signal: 1.5 },
    { ...full, signal: true },
    { ...full, cpuTimeMs: -1 },
    { ...full, wallTimeMs: "3" },
    { ...full, memoryKb: null },
    { ...full, stdoutBytes: -1 },
    { ...full, stderrBytes: 0.5 },
    { ...full, stdoutBytes: null },
    { ...full, oomKilled: 0 },
    { ...full, outputTruncated: null },
    { ...full, stdoutTruncated: "yes" },
    { ...full, cpuTimeMs: undefined },
    { ...full, exitCode: undefined },
  ];
  for (const variant of variants) {
    const line = JSON.stringify(variant);
    it(`reads ${line} as the schema does`, () => {
      const schema = statusLineSchema.safeParse(JSON.parse(line));
      expect(parseStatusLine(line)).toStrictEqual(schema.success ? schema.data : undefined);
    });
  }

  it("reads a number too large for JSON's doubles (Infinity) as the schema does: not a status", () => {
    const line = JSON.stringify(full).replace('"cpuTimeMs":1.2', '"cpuTimeMs":1e999');
    expect(statusLineSchema.safeParse(JSON.parse(line)).success).toBe(false);
    expect(parseStatusLine(line)).toBeUndefined();
  });
});

describe("readyPid", () => {
  const lines = [
    { ready: true, pid: 4242 },
    { ready: true, pid: 1, extra: "dropped" },
    { ready: true, pid: 0 },
    { ready: true, pid: -3 },
    { ready: true, pid: 1.5 },
    { ready: true, pid: 2 ** 60 },
    { ready: true, pid: "12" },
    { ready: false, pid: 12 },
    { ready: "true", pid: 12 },
    { pid: 12 },
    { ready: true },
    null,
    [],
    "ready",
  ];
  for (const line of lines) {
    it(`reads ${JSON.stringify(line)} as readyLineSchema does`, () => {
      const schema = readyLineSchema.safeParse(line);
      expect(readyPid(line)).toBe(schema.success ? schema.data.pid : undefined);
    });
  }
});

describe("signalName", () => {
  it("names numbers and passes names through", () => {
    expect(signalName(9)).toBe("SIGKILL");
    expect(signalName("SIGSEGV")).toBe("SIGSEGV");
    expect(signalName("KILL")).toBe("SIGKILL");
    expect(signalName(null)).toBeNull();
  });
});
