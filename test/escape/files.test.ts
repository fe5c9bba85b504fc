/* Symlink, hardlink and path tricks at every point where Warren handles a
 * job's files: the paths a client sends (checked at the API, streamed to the
 * launcher and written inside the container), and files a program plants in
 * its scratch layer for a later stage. Warren never reads a file out of a
 * scratch layer (output leaves through pipes), so a planted link has nothing
 * of Warren's to redirect; these tests prove the links also reach nothing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorSchema } from "../../src/api/answer-schemas.js";
import { post, testApp, type TestApp } from "../api/fixture.js";
import { job, run } from "../helpers/sandbox.js";

let api: TestApp;
beforeAll(async () => {
  api = await testApp({}, { worker: false });
});
afterAll(async () => {
  await api?.close();
});

const submit = (files: { path: string; content: string }[]) => api.app.request("/v1/runs", post({ language: "bash", files }));

describe("file paths from the client", () => {
  const refused: [string, { path: string; content: string }[]][] = [
    ["parent segment", [{ path: "../escape.sh", content: "" }]],
    ["parent segment inside", [{ path: "a/../../etc/passwd", content: "" }]],
    ["absolute", [{ path: "/etc/cron.d/x", content: "" }]],
    ["dot segment", [{ path: "./main.sh", content: "" }]],
    ["backslash", [{ path: "..\\..\\x", content: "" }]],
    ["NUL", [{ path: "main.sh\0.txt", content: "" }]],
    ["empty segment", [{ path: "a//b", content: "" }]],
    ["trailing slash", [{ path: "dir/", content: "" }]],
    ["empty", [{ path: "", content: "" }]],
    ["a name longer than NAME_MAX bytes (200 two-byte characters)", [{ path: "é".repeat(200), content: "" }]],
    ["deeper than the launcher copies (33 segments)", [{ path: `${"d/".repeat(32)}x`, content: "" }]],
    ["the same path twice", [{ path: "main.sh", content: "a" }, { path: "main.sh", content: "b" }]],
    ["a file below another file", [{ path: "main.sh", content: "" }, { path: "main.sh/x", content: "" }]],
  ];
  it.each(refused)("%s: 400 invalid_request naming files, before anything is queued", async (_, files) => {
    const response = await submit(files);
    expect(response.status).toBe(400);
    const body = errorSchema.parse(await response.json());
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain("files");
    expect(await api.queue.depth()).toBe(0);
  });

  it("odd but valid names arrive byte for byte at the 32-segment and 255-byte bounds", async () => {
    const deep = `${"d/".repeat(31)}deep.txt`;
    const long = "é".repeat(127); // 254 bytes
    const files = [
      { path: "main.sh", content: 'ls -A /box; cat "/box/-rf" "/box/..." "/box/ünï cødé" /box/' + `${deep} /box/${long}` },
      { path: "-rf", content: "dash\n" },
      { path: "...", content: "dots\n" },
      { path: "ünï cødé", content: "unicode\n" },
      { path: deep, content: "deep\n" },
      { path: long, content: "long\n" },
    ];
    const response = await submit(files);
    expect(response.status).toBe(202);
    const result = await run(job("bash", "main.sh", files[0]!.content, { files }));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: ["-rf", "...", "d", "main.sh", long, "ünï cødé", "dash", "dots", "unicode", "deep", "long", ""].join("\n") } });
  });
});

describe("links planted in the scratch layer", () => {
  it("links to the host's files through the container's init reach nothing: EACCES via /proc/1/root, EXDEV for hardlinks", async () => {
    const script = [
      "ln /usr/bin/python3 /box/py 2>&1 | sed 's/.*: //'",
      "ln /proc/1/exe /box/launcher 2>&1 | sed 's/.*: //'",
      "ln -s /proc/1/root/etc/shadow /box/shadow; cat /box/shadow 2>&1 | sed 's/.*: //'",
      "ls /proc/1/root/ 2>&1 | sed 's/.*: //'",
      "ls /proc/1/cwd/ 2>&1 | sed 's/.*: //'",
    ].join("\n");
    const result = await run(job("bash", "main.sh", script));
    expect(result.run!.stdout).toBe("Invalid cross-device link\nInvalid cross-device link\nPermission denied\nPermission denied\nPermission denied\n");
  });

  it("a program that swaps its own binary for a link to the launcher makes the next test a runtime_error, not Warren's failure", async () => {
    const program = '#include <stdio.h>\n#include <unistd.h>\nint main(void) { unlink("main"); symlink("/proc/1/exe", "main"); puts("planted"); return 0; }';
    const result = await run(job("c", "main.c", program, { tests: [{ name: "plant" }, { name: "victim" }] }));
    expect(result).toMatchObject({ status: "completed", verdict: "runtime_error" });
    expect(result.tests?.map((test) => [test.name, test.verdict, test.status, test.exitCode])).toEqual([
      ["plant", "accepted", "ok", 0],
      ["victim", "runtime_error", "runtime_error", null],
    ]);
    expect(result.tests?.[1]?.stderr).toBe("warren: the program could not be started: permission denied — ./main is not executable (it started in an earlier test of this job, which changed it since)\n");
  });

  it("a program that deletes its own binary: the next test is a runtime_error (ENOENT)", async () => {
    const result = await run(job("c", "main.c", '#include <unistd.h>\nint main(void) { return unlink("main"); }', { tests: [{ name: "1" }, { name: "2" }] }));
    expect(result.tests?.map((test) => [test.verdict, test.status])).toEqual([["accepted", "ok"], ["runtime_error", "runtime_error"]]);
    expect(result.tests?.[1]?.stderr).toBe("warren: the program could not be started: no such file — ./main is gone; an earlier test of this job removed it\n");
  });

  it("links planted over /tmp, /box and the work dir by test 1 are resolved inside the container by test 2", async () => {
    const script = `if [ -L /box/etc ]; then readlink -f /box/etc; [ -e /box/etc/shadow ] && echo SHADOW || echo no-shadow; ls /tmp/root/ 2>&1 | sed 's/.*: //'; else ln -s /etc /box/etc; ln -s /proc/1/root /tmp/root; echo planted; fi`;
    const result = await run(job("bash", "main.sh", script, { tests: [{ name: "1" }, { name: "2" }] }));
    expect(result.tests?.map((test) => test.stdout)).toEqual(["planted\n", "/etc\nno-shadow\nPermission denied\n"]);
  });
});
