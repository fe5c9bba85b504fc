import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSandboxHost, type OpenedSandboxHost } from "../../src/sandbox/sandbox-host.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";
import { testSettings } from "../helpers/sandbox.js";
import { tarOf } from "./archives.js";
import { freshStore, install } from "./store-fixture.js";

/* A static binary built here with `cc -static`, imported as a one-file root
 * filesystem, run by the real launcher through the real job pipeline. */

const SOURCE = `#include <stdio.h>
int main(void) { int c; puts("hello from an imported image"); while ((c = getchar()) != EOF) putchar(c); return 0; }`;

const language = {
  id: "echo",
  name: "Static echo",
  aliases: [],
  extensions: [".txt"],
  sourceFile: "input.txt",
  version: { fixed: "1.0" },
  compile: null,
  run: ["/bin/echo-static"],
};

let fixture: ReturnType<typeof freshStore>;
let sandbox: OpenedSandboxHost;

beforeAll(async () => {
  fixture = freshStore();
  const build = fs.mkdtempSync(path.join(os.tmpdir(), "warren-static-"));
  fs.writeFileSync(path.join(build, "main.c"), SOURCE);
  execFileSync("cc", ["-static", "-O2", "-o", path.join(build, "echo-static"), path.join(build, "main.c")]);
  const binary = fs.readFileSync(path.join(build, "echo-static"));
  fs.rmSync(build, { recursive: true, force: true });
  const tar = await tarOf([{ name: "./" }, { name: "./bin/" }, { name: "./bin/echo-static", content: binary, mode: 0o700 }, { name: "./etc/" }]);
  await install(fixture.store, tar, { name: "static", languages: [language], env: { PATH: "/bin" } });
  sandbox = await openSandboxHost(testSettings({ WARREN_DATA_DIR: fixture.dataDir }).sandbox, { reapStale: false });
});

afterAll(() => fixture.cleanup());

function job(stdin: string) {
  return jobSpecFromBody({ language: "echo", image: "static", files: [{ path: "input.txt", content: "" }], stdin }, { languages: sandbox.catalog.languages() });
}

describe("a program in an imported image", () => {
  it("runs in the sandbox with the image as its root", async () => {
    const result = await runJob(job("ping\n"), sandbox);
    expect(result).toMatchObject({ status: "completed", verdict: "accepted", language: "echo", version: "1.0" });
    expect(result.run).toMatchObject({ status: "ok", exitCode: 0, stdout: "hello from an imported image\nping\n", stderr: "" });
  });

  it("holds the image while it runs: rm is refused, or waits, and succeeds once the sandbox is gone", async () => {
    const image = sandbox.catalog.find("static");
    const lease = image.acquire!();
    await expect(fixture.store.remove("static")).rejects.toMatchObject({ code: "image_in_use", message: expect.stringMatching(/in use by 1 running sandbox \(pid \d+\).*--wait/) });
    expect(fixture.store.get("static")).toBeDefined();
    const removing = fixture.store.remove("static", 60_000);
    lease.release();
    await expect(removing).resolves.toEqual({ contentRemoved: true });
    expect(fixture.store.get("static")).toBeUndefined();
    expect(fs.readdirSync(fixture.store.layout.contentRoot)).toEqual([]);
    // A job for the removed image fails as Warren's own fault, naming what is installed.
    const result = await runJob(jobSpecFromBody({ language: "echo", files: [{ path: "input.txt", content: "" }] }, { languages: [...image.languages] }), sandbox);
    expect(result).toMatchObject({ status: "failed", verdict: "internal_error", error: { code: "image_not_found" } });
  });
});
