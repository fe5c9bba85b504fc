import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { piston } from "piston-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiOptions } from "../../src/api/context.js";
import type { JobQueue } from "../../src/queue/index.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { testApp } from "./fixture.js";
import type { SessionMode } from "./sessions.case.js";

/** A real HTTP server serving /piston (WARREN_COMPAT=piston) on a queue whose jobs a real worker runs. */
export interface PistonServer {
  readonly base: string;
  readonly queue: JobQueue;
  close(): Promise<void>;
}

export async function listenPiston(mode: SessionMode, options: Partial<ApiOptions> = {}): Promise<PistonServer> {
  const { api, startWorker } = await mode.open();
  const t = await testApp({ compat: ["piston"], ...options }, { queue: api, worker: false });
  const stopWorker = await startWorker();
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    queue: api,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await t.close();
    },
  };
}

/** A program per Piston language name that prints `hello <its stdin's first line> <its first argument>`. */
const HELLO: Readonly<Record<string, string>> = {
  python: "import sys\nprint('hello', input(), sys.argv[1])",
  javascript: "const line = require('fs').readFileSync(0, 'utf8').split('\\n')[0];\nconsole.log('hello', line, process.argv[2]);",
  c: '#include <stdio.h>\nint main(int argc, char **argv) { char line[64]; scanf("%63s", line); printf("hello %s %s\\n", line, argv[1]); return 0; }\n',
  "c++": '#include <iostream>\n#include <string>\nint main(int argc, char **argv) { std::string line; std::cin >> line; std::cout << "hello " << line << " " << argv[1] << std::endl; }\n',
  java: 'import java.util.Scanner;\npublic class Greeter {\n  public static void main(String[] args) {\n    String line = new Scanner(System.in).nextLine();\n    System.out.println("hello " + line + " " + args[0]);\n  }\n}\n',
  bash: 'read line\necho "hello $line $1"',
  go: 'package main\nimport ("bufio"; "fmt"; "os")\nfunc main() { s := bufio.NewScanner(os.Stdin); s.Scan(); fmt.Println("hello", s.Text(), os.Args[1]) }\n',
  rust: 'use std::io::BufRead;\nfn main() { let line = std::io::stdin().lock().lines().next().unwrap().unwrap(); println!("hello {} {}", line, std::env::args().nth(1).unwrap()); }\n',
  ruby: 'puts "hello #{gets.chomp} #{ARGV[0]}"',
  php: '<?php echo "hello " . trim(fgets(STDIN)) . " " . $argv[1] . "\\n";',
  perl: 'my $line = <STDIN>; chomp $line; print "hello $line $ARGV[0]\\n";',
};

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/piston${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

const execute = async (base: string, body: Record<string, unknown>) => {
  const response = await post(base, "/api/v2/execute", { language: "python", version: "*", ...body });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

/** The Piston v2 API at /piston, against a real server in queue mode `mode`. */
export function pistonContract(name: string, mode: SessionMode): void {
  describe(`Piston v2 at /piston (${name})`, () => {
    let s: PistonServer;
    beforeAll(async () => {
      s = await listenPiston(mode);
    });
    afterAll(async () => {
      await s?.close();
    });

    it("runs a program in every language of the installed images through the published piston-client, unchanged", async () => {
      const client = piston({ server: `${s.base}/piston` });
      const runtimes = (await client.runtimes()) as { language: string; version: string; aliases: string[] }[];
      const languages = runtimes.map((runtime) => runtime.language);
      expect(languages).toEqual(expect.arrayContaining(["python", "javascript", "c", "c++", "java", "bash"]));
      for (const runtime of runtimes) {
        const code = HELLO[runtime.language];
        if (code === undefined) throw new Error(`no hello program for ${runtime.language} in this test: add one`);
        // piston-client sends args ["1","2","3"], -1 memory limits, text/plain, and no file name.
        const result = (await client.execute(runtime.language, code, { stdin: "world" })) as Record<string, any>;
        expect(result, runtime.language).toMatchObject({ language: runtime.language, version: runtime.version, run: { stdout: "hello world 1\n", stderr: "", code: 0, signal: null, output: "hello world 1\n", status: null, message: null } });
        expect(result.run.wall_time, runtime.language).toBeGreaterThan(0);
        expect(result.run.memory, runtime.language).toBeGreaterThan(0);
      }
    }, 300_000);

    it("lists runtimes as Piston does: name, semver version, Piston's aliases, the runtime when a package provides several", async () => {
      const runtimes = (await (await fetch(`${s.base}/piston/api/v2/runtimes`)).json()) as Record<string, unknown>[];
      const python = runtimes.find((runtime) => runtime.language === "python");
      expect(python).toMatchObject({ version: expect.stringMatching(/^3\.\d+\.\d+$/), aliases: expect.arrayContaining(["py", "python3"]) });
      expect(python).not.toHaveProperty("runtime");
      expect(runtimes.find((runtime) => runtime.language === "c++")).toMatchObject({ aliases: expect.arrayContaining(["cpp", "g++"]), runtime: "gcc" });
      expect(runtimes.find((runtime) => runtime.language === "javascript")).toMatchObject({ aliases: expect.arrayContaining(["js", "node-js"]), runtime: "node" });
      for (const runtime of runtimes) expect(Object.keys(runtime).sort()).toEqual(expect.arrayContaining(["aliases", "language", "version"]));
    });

    it("resolves an alias and a semver range to the newest matching runtime, and answers the runtime's own name", async () => {
      const { status, body } = await execute(s.base, { language: "py", version: "3.x", files: [{ content: "print(1)" }] });
      expect(status).toBe(200);
      expect(body).toMatchObject({ language: "python", version: expect.stringMatching(/^3\./), run: { stdout: "1\n" } });
      expect(body).not.toHaveProperty("compile");
    }, 60_000);

    it("answers Piston's 400 messages, in Piston's order", async () => {
      const cases: [Record<string, unknown> | string, string][] = [
        [{ version: "*", files: [] }, "language is required as a string"],
        [{ language: 3, version: "*", files: [] }, "language is required as a string"],
        [{ language: "python", files: [] }, "version is required as a string"],
        [{ language: "python", version: "*" }, "files is required as an array"],
        [{ language: "python", version: "*", files: "print(1)" }, "files is required as an array"],
        [{ language: "python", version: "*", files: [{ content: "print(1)" }, { name: "b.py" }] }, "files[1].content is required as a string"],
        [{ language: "python", version: "*", files: [null] }, "files[0].content is required as a string"],
        [{ language: "cobol", version: "*", files: [{ content: "x" }] }, "cobol-* runtime is unknown"],
        [{ language: "python", version: "2.x", files: [{ content: "x" }] }, "python-2.x runtime is unknown"],
        [{ language: "python", version: "not a range", files: [{ content: "x" }] }, "python-not a range runtime is unknown"],
        [{ language: "python", version: "*", files: [{ content: "cHJpbnQoMSk=", encoding: "base64" }] }, "files must include at least one utf8 encoded file"],
        [{ language: "python", version: "*", files: [{ content: "x" }], run_timeout: "3000" }, "If specified, run_timeout must be a number"],
        [{ language: "python", version: "*", files: [{ content: "x" }], run_timeout: MAX_LIMITS.wallTimeMs + 1 }, `run_timeout cannot exceed the configured limit of ${MAX_LIMITS.wallTimeMs}`],
        [{ language: "python", version: "*", files: [{ content: "x" }], compile_cpu_time: MAX_LIMITS.cpuTimeMs + 1 }, `compile_cpu_time cannot exceed the configured limit of ${MAX_LIMITS.cpuTimeMs}`],
        [{ language: "python", version: "*", files: [{ content: "x" }], run_memory_limit: MAX_LIMITS.memoryMb * 1024 * 1024 + 1 }, `run_memory_limit cannot exceed the configured limit of ${MAX_LIMITS.memoryMb * 1024 * 1024}`],
        // JSON's 1e999 is Infinity once parsed.
        ['{"language":"python","version":"*","files":[{"content":"x"}],"run_memory_limit":1e999}', `run_memory_limit cannot exceed the configured limit of ${MAX_LIMITS.memoryMb * 1024 * 1024}`],
        [{ language: "python", version: "*", files: [{ content: "x" }], run_timeout: -5 }, "run_timeout must be non-negative"],
        // Memory before timeouts, compile before run: Piston's order.
        [{ language: "python", version: "*", files: [{ content: "x" }], run_timeout: -5, compile_memory_limit: -7 }, "compile_memory_limit must be non-negative"],
        [{ language: "python", version: "*", files: [{ content: "x" }], args: [1] }, "args must be an array of strings"],
        [{ language: "python", version: "*", files: [{ content: "x" }], stdin: 5 }, "stdin must be a string"],
        ["{not json", "The request body is not valid JSON."],
        ['"a string"', "language is required as a string"],
      ];
      for (const [body, message] of cases) {
        const response = await post(s.base, "/api/v2/execute", body);
        expect({ body, status: response.status, answer: await response.json() }).toEqual({ body, status: 400, answer: { message } });
      }
    });

    it("refuses a file name that would leave the work dir with a 400, as {message}", async () => {
      const { status, body } = await execute(s.base, { files: [{ name: "../x.py", content: "print(1)" }] });
      expect(status).toBe(400);
      expect(Object.keys(body)).toEqual(["message"]);
      expect(body.message).toMatch(/\.\.\/x\.py|path/);
    });

    it("decodes base64 and hex files, runs the first utf8 file, and passes the others beside it", async () => {
      const data = Buffer.from([0, 1, 2, 255]);
      const { status, body } = await execute(s.base, {
        files: [
          { name: "data.bin", content: data.toString("base64"), encoding: "base64" },
          { name: "main.py", content: "import helper\nprint(list(open('data.bin','rb').read()), helper.WORD, open('x.txt').read())" },
          { name: "helper.py", content: Buffer.from("WORD = 'hexed'\n").toString("hex"), encoding: "hex" },
          { name: "x.txt", content: "plain", encoding: "utf8" },
        ],
      });
      expect(status).toBe(200);
      expect(body.run).toMatchObject({ stdout: "[0, 1, 2, 255] hexed plain\n", code: 0 });
    }, 60_000);

    it("adds a final newline to stdin, as Piston does, and passes args", async () => {
      const { body } = await execute(s.base, { files: [{ content: "import sys\nprint(repr(sys.stdin.read()), sys.argv[1:])" }], stdin: "a\nb", args: ["x", "y z"] });
      expect(body.run.stdout).toBe("'a\\nb\\n' ['x', 'y z']\n");
    }, 60_000);

    it("keeps stdout and stderr interleaved in `output`, in the order Warren received them", async () => {
      // Two pipes are read apart: writes far enough apart arrive in order (an ordering, not a speed, is checked).
      const code = "import sys, time\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b', file=sys.stderr, flush=True)\ntime.sleep(0.5)\nprint('c', flush=True)";
      const { body } = await execute(s.base, { files: [{ content: code }] });
      expect(body.run).toMatchObject({ stdout: "a\nc\n", stderr: "b\n", output: "a\nb\nc\n" });
    }, 60_000);

    it("reports a non-zero exit as RE, a signal as SG, a time limit as TO, in Piston's words", async () => {
      const exit = await execute(s.base, { files: [{ content: "import sys\nsys.exit(3)" }] });
      expect(exit.body.run).toMatchObject({ code: 3, signal: null, status: "RE", message: "Exited with error status 3" });
      const signal = await execute(s.base, { files: [{ content: "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)" }] });
      expect(signal.body.run).toMatchObject({ code: null, signal: "SIGTERM", status: "SG", message: "Caught fatal signal 15" });
      const wall = await execute(s.base, { files: [{ content: "import time\ntime.sleep(30)" }], run_timeout: 300 });
      expect(wall.body.run).toMatchObject({ code: null, signal: "SIGKILL", status: "TO", message: "Time limit exceeded (wall clock)" });
      expect(wall.body.run.wall_time).toBeGreaterThanOrEqual(300);
      const cpu = await execute(s.base, { files: [{ content: "while True: pass" }], run_cpu_time: 200, run_timeout: 10_000 });
      expect(cpu.body.run).toMatchObject({ code: null, signal: "SIGKILL", status: "TO", message: "Time limit exceeded" });
    }, 120_000);

    it("takes memory limits in bytes (-1: Warren's maximum) and reports a memory kill as SG with SIGKILL", async () => {
      const hog = "x = bytearray(200 * 1024 * 1024)\nprint(len(x))";
      const small = await execute(s.base, { files: [{ content: hog }], run_memory_limit: 64 * 1024 * 1024 });
      expect(small.body.run).toMatchObject({ code: null, signal: "SIGKILL", status: "SG", message: "Caught fatal signal 9 (memory limit exceeded)" });
      const unlimited = await execute(s.base, { files: [{ content: hog }], run_memory_limit: -1 });
      expect(unlimited.body.run).toMatchObject({ stdout: `${200 * 1024 * 1024}\n`, code: 0, status: null });
      expect(unlimited.body.run.memory).toBeGreaterThan(200 * 1024 * 1024);
    }, 120_000);

    it("answers a compiled language with its compile stage, and a failed compile as `run` too", async () => {
      const ok = await execute(s.base, { language: "c", files: [{ name: "main.c", content: "int main(void) { return 0; }" }] });
      expect(ok.body).toMatchObject({ language: "c", compile: { code: 0, status: null }, run: { code: 0, status: null } });
      const broken = await execute(s.base, { language: "c", files: [{ name: "main.c", content: "int main(void) { return }" }] });
      expect(broken.body.compile).toMatchObject({ code: 1, status: "RE", stderr: expect.stringContaining("error") });
      expect(broken.body.run).toEqual(broken.body.compile);
      expect(broken.body.compile.output).toBe(broken.body.compile.stderr);
    }, 120_000);

    it("lists packages read-only: one per runtime, installed", async () => {
      const packages = (await (await fetch(`${s.base}/piston/api/v2/packages`)).json()) as Record<string, unknown>[];
      const runtimes = (await (await fetch(`${s.base}/piston/api/v2/runtimes`)).json()) as Record<string, unknown>[];
      expect(packages).toHaveLength(runtimes.length);
      expect(packages).toContainEqual({ language: "python", language_version: runtimes.find((runtime) => runtime.language === "python")!.version, installed: true });
      expect(packages).toContainEqual(expect.objectContaining({ language: "gcc", installed: true }));
      const install = await post(s.base, "/api/v2/packages", { language: "python", version: "3.x" });
      expect(install.status).toBe(405);
      expect(await install.json()).toEqual({ message: expect.stringContaining("read-only") });
    });

    it("answers an unknown path under /piston with a 404 {message}", async () => {
      const response = await fetch(`${s.base}/piston/api/v2/nothing`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: "No such endpoint: GET /piston/api/v2/nothing" });
    });
  });
}
