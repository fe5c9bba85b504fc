import { describe, expect, it } from "vitest";
import { parseStatusLine, signalName } from "./launch-status.js";

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

describe("signalName", () => {
  it("names numbers and passes names through", () => {
    expect(signalName(9)).toBe("SIGKILL");
    expect(signalName("SIGSEGV")).toBe("SIGSEGV");
    expect(signalName("KILL")).toBe("SIGKILL");
    expect(signalName(null)).toBeNull();
  });
});
