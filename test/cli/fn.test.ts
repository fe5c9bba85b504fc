// `warren fn` against a real server (the embedded queue, a real worker, the real function runtime).
import { execFile } from "node:child_process";
import fs from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { testApp, type TestApp } from "../api/fixture.js";
import { sandbox } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

let t: TestApp;
let server: Server;
let base: string;
let runtime: ReturnType<typeof createFunctionRuntime>;
let dir: string;
beforeAll(async () => {
  runtime = createFunctionRuntime(await sandbox());
  t = await testApp({ apiKeys: ["cli-key"] }, { functions: runtime });
  server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-fn-cli-"));
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await t?.close();
  await runtime?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `warren fn ARGS` as a child process (the server answers in this one, so never spawnSync). */
function warren(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [warrenBin(), "fn", ...args], { env: { ...process.env, WARREN_URL: base, WARREN_API_KEY: "cli-key", ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? -1), stdout, stderr });
    });
  });
}

describe("warren fn", () => {
  it("deploys a directory, invokes it with --data and @FILE, lists it, and removes it", async () => {
    const src = path.join(dir, "greet");
    fs.mkdirSync(path.join(src, "lib"), { recursive: true });
    fs.writeFileSync(path.join(src, "main.py"), "from lib.words import hello\ndef handler(event, context):\n    print('logged', event['who'])\n    return hello(event['who'])\n");
    fs.writeFileSync(path.join(src, "lib", "__init__.py"), "");
    fs.writeFileSync(path.join(src, "lib", "words.py"), "def hello(who):\n    return 'hello ' + who\n");
    const deployed = await warren(["deploy", src, "--name", "greet", "--lang", "python", "--handler", "main.handler"]);
    expect(deployed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^deployed greet version 1 \([0-9a-f]{12}\)\n$/) });

    const invoked = await warren(["invoke", "greet", "--data", '{"who":"cli"}', "--logs"]);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toBe("hello cli");
    expect(invoked.stderr).toContain("logged cli");
    const event = path.join(dir, "event.json");
    fs.writeFileSync(event, '{"who":"file"}');
    expect(JSON.parse((await warren(["invoke", "greet@1", "--data", `@${event}`])).stdout)).toBe("hello file");

    const listed = await warren(["ls"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^greet\t1\t1 version\tpython\tmain\.handler\t/);
    // Without the key the server refuses (401): exit 1.
    expect((await warren(["ls"], { WARREN_API_KEY: "" })).code).toBe(1);

    expect(await warren(["rm", "greet"])).toMatchObject({ code: 0, stdout: "deleted greet\n" });
    const gone = await warren(["invoke", "greet"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("not_found");
  }, 60_000);

  it("says why a deploy failed (the import's output, exit 1), and why flags are wrong (exit 2)", async () => {
    const src = path.join(dir, "broken");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "main.py"), "import module_that_is_not_there\n");
    const refused = await warren(["deploy", src, "--name", "broken", "--lang", "python", "--handler", "main.handler"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("function_cannot_start");
    expect(refused.stderr).toContain("module_that_is_not_there");
    expect((await warren(["deploy", src, "--name", "broken"])).code).toBe(2);
    expect((await warren(["frobnicate"])).code).toBe(2);
    const unreachable = await warren(["ls"], { WARREN_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(125);
    expect(unreachable.stderr).toContain("Cannot reach the Warren server");
  }, 60_000);
});
