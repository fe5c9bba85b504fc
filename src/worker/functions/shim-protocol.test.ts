import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../sandbox/container/exec-types.js";
import { builtFiles, untar } from "./build-files.js";
import { outcomeOf } from "./invocation.js";
import type { FunctionPlan } from "./plan.js";
import { eventHeader, parseShimResponse, READY_LINE, ShimChannelWatch, splitHandler } from "./shim-protocol.js";

const exec = (stdout: string | Buffer, extra: Partial<ExecResult> = {}): ExecResult => ({
  status: "ok",
  exitCode: 0,
  signal: null,
  stdout: Buffer.from(stdout),
  stderr: Buffer.from("log line\n"),
  stdoutTruncated: false,
  stderrTruncated: false,
  stdoutDropped: 0,
  stderrDropped: 0,
  cpuTimeMs: 12,
  wallTimeMs: 30,
  memoryKb: 9000,
  oomKilled: false,
  cancelled: false,
  ...extra,
});
const plan = (mode: "handler" | "process") => ({ mode, language: { id: "python" }, limits: { memoryMb: 64, cpuTimeMs: 1000, outputKb: 64 } }) as unknown as FunctionPlan;
const how = { timedOut: false, cancelled: false, durationMs: 3.456, cold: false, logs: true, logsCapBytes: 4, timeoutMs: 1000 };

describe("the shims' protocol", () => {
  it("splits a handler at its last dot, and refuses one without a module or a function", () => {
    expect(splitHandler("main.handler")).toEqual({ module: "main", fn: "handler" });
    expect(splitHandler("pkg.mod.fn")).toEqual({ module: "pkg.mod", fn: "fn" });
    for (const bad of ["handler", ".handler", "main.", ""]) expect(splitHandler(bad)).toBeUndefined();
  });

  it("writes the event's header as one JSON line", () => {
    expect(eventHeader("id-1", "application/json", 500).toString()).toBe('{"id":"id-1","contentType":"application/json","timeoutMs":500}\n');
  });

  it("reads a response: its header line, then the body bytes as they are", () => {
    const body = Buffer.from([0, 10, 255]);
    const response = parseShimResponse(Buffer.concat([Buffer.from('{"ok":true,"contentType":"application/octet-stream"}\n'), body]));
    expect(response).toEqual({ kind: "ok", contentType: "application/octet-stream", body });
    expect(parseShimResponse(Buffer.alloc(0))).toEqual({ kind: "none" });
  });

  it("skips the ready line, and takes as many body bytes as the header's length says", () => {
    const response = parseShimResponse(Buffer.from(`${READY_LINE}{"ok":true,"contentType":"text/plain","length":2}\nhi`));
    expect(response).toEqual({ kind: "ok", contentType: "text/plain", body: Buffer.from("hi") });
    expect(parseShimResponse(Buffer.from(READY_LINE))).toEqual({ kind: "none" });
    expect(parseShimResponse(Buffer.from('{"ok":true,"contentType":"text/plain","length":3}\nhi')).kind).toBe("warren"); // cut short
  });

  it("watches the channel live: ready after the ready line, the response once its length has come", async () => {
    const watch = new ShimChannelWatch();
    let complete: Buffer | undefined | null = null;
    void watch.response.then((bytes) => (complete = bytes));
    for (const piece of ['{"rea', 'dy":true}\n{"ok":true,"contentType"', ':"a","length":5}\nab', "c"]) watch.push(Buffer.from(piece));
    expect(await watch.ready).toBe(true);
    expect(watch.isReady).toBe(true);
    await Promise.resolve();
    expect(complete).toBeNull(); // 3 of 5 body bytes
    watch.push(Buffer.from("de"));
    expect(parseShimResponse((await watch.response)!)).toEqual({ kind: "ok", contentType: "a", body: Buffer.from("abcde") });
  });

  it("is not ready when anything else comes first (a failed import's header: complete at once) or the channel ends", async () => {
    const failed = new ShimChannelWatch();
    failed.push(Buffer.from('{"ok":false,"load":{"type":"E","message":"m","stack":null}}\n'));
    expect(await failed.ready).toBe(false);
    expect(parseShimResponse((await failed.response)!).kind).toBe("load");
    const ended = new ShimChannelWatch();
    ended.push(Buffer.from('{"ready"'));
    ended.end();
    expect(await ended.ready).toBe(false);
    expect(await ended.response).toBeUndefined();
    const noLength = new ShimChannelWatch(false); // a header without a length: only the program's end completes it
    noLength.push(Buffer.from('{"ok":true,"contentType":"a"}\nabc'));
    noLength.end();
    expect(await noLength.response).toBeUndefined();
  });

  it("takes a response that is not the shim's for the shim's failure", () => {
    expect(parseShimResponse(Buffer.from("no newline")).kind).toBe("warren");
    expect(parseShimResponse(Buffer.from("not json\n")).kind).toBe("warren");
    expect(parseShimResponse(Buffer.from('{"ok":"yes"}\n')).kind).toBe("warren");
  });
});

describe("an invocation's outcome", () => {
  it("is Warren's failure (status failed), not the function's, when the shim fails", () => {
    const outcome = outcomeOf(exec('{"ok":false,"warren":"the Python shim failed: boom"}\n', { exitCode: 70, status: "runtime_error" }), plan("handler"), how);
    expect(outcome).toMatchObject({ status: "failed", error: { code: "shim_failed" } });
  });

  it("is the function's error when its handler threw, with the shim's type, message and stack", () => {
    const outcome = outcomeOf(exec('{"ok":false,"error":{"type":"KeyError","message":"\'x\'","stack":"Traceback"}}\n'), plan("handler"), how);
    expect(outcome).toMatchObject({ status: "function_error", error: { type: "KeyError", message: "'x'", stack: "Traceback" } });
  });

  it("maps the launcher's limits: memory → function_memory_exceeded, CPU → function_timeout; Warren's timeout → function_timeout", () => {
    expect(outcomeOf(exec("", { status: "memory_limit_exceeded", oomKilled: true }), plan("handler"), how).status).toBe("function_memory_exceeded");
    expect(outcomeOf(exec("", { status: "time_limit_exceeded" }), plan("handler"), how).status).toBe("function_timeout");
    const v8 = { ...plan("handler"), language: { id: "javascript" } } as unknown as FunctionPlan;
    const aborted = exec("", { status: "runtime_error", exitCode: null, signal: "SIGABRT", stderr: Buffer.from("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n") });
    expect(outcomeOf(aborted, v8, how).status).toBe("function_memory_exceeded");
    expect(outcomeOf(exec("", { status: "internal_error", error: { step: "cancelled", errno: null, message: "x" }, cancelled: true }), plan("handler"), { ...how, timedOut: true }).status).toBe("function_timeout");
  });

  it("answers a process's stdout as bytes; a failed exit is the function's error", () => {
    expect(outcomeOf(exec("raw"), plan("process"), how)).toMatchObject({ status: "ok", contentType: "application/octet-stream", body: Buffer.from("raw") });
    expect(outcomeOf(exec("", { status: "runtime_error", exitCode: 2 }), plan("process"), how)).toMatchObject({ status: "function_error", error: { type: "ExitCode" } });
  });

  it("carries the handler's own time as its shim said it, never more than the invocation's duration; refuses a negative one", () => {
    expect(outcomeOf(exec('{"ok":true,"contentType":"application/json","handlerMs":1.25}\n1'), plan("handler"), how).handlerMs).toBe(1.25);
    expect(outcomeOf(exec('{"ok":false,"error":{"type":"E","message":"m","stack":null},"handlerMs":2}\n'), plan("handler"), how)).toMatchObject({ status: "function_error", handlerMs: 2 });
    // a handler that forges its shim's header cannot say it took longer than the invocation did
    expect(outcomeOf(exec('{"ok":true,"contentType":"application/json","handlerMs":99999}\n1'), plan("handler"), how).handlerMs).toBe(3.46);
    expect(outcomeOf(exec('{"ok":true,"contentType":"application/json","handlerMs":-1}\n1'), plan("handler"), how).status).toBe("failed");
    expect(outcomeOf(exec('{"ok":true,"contentType":"application/json"}\n1'), plan("handler"), how)).not.toHaveProperty("handlerMs");
    expect(outcomeOf(exec("raw"), plan("process"), how)).not.toHaveProperty("handlerMs");
  });

  it("keeps the logs within their cap and says so", () => {
    expect(outcomeOf(exec('{"ok":true,"contentType":"application/json"}\n1'), plan("handler"), how).logs).toEqual({ stdout: "", stderr: "log ", truncated: true });
  });
});

describe("a build", () => {
  it("is the regular files of the archive that the compile stage added or changed", () => {
    const entry = (name: string, content: string, type = "0") => {
      const header = Buffer.alloc(512);
      header.write(name, 0);
      header.write(`${content.length.toString(8).padStart(11, "0")}\0`, 124);
      header.write(type, 156);
      const data = Buffer.alloc(Math.ceil(content.length / 512) * 512);
      data.write(content);
      return Buffer.concat([header, data]);
    };
    const archive = Buffer.concat([entry("./", "", "5"), entry("./main.c", "int main;"), entry("./main", "ELF..."), entry("./sub/x.class", "cafe"), Buffer.alloc(1024)]);
    const files = untar(archive);
    expect(files.map((f) => f.path)).toEqual(["main.c", "main", "sub/x.class"]);
    const built = builtFiles(files, [{ path: "main.c", content: Buffer.from("int main;") }]);
    expect(built.map((f) => [f.path, f.content.toString()])).toEqual([["main", "ELF..."], ["sub/x.class", "cafe"]]);
  });
});
