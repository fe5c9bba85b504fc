import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { piston } from "piston-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { z } from "zod";
import { attachPistonConnect, type PistonConnections } from "../../src/api/compat/piston/connect.js";
import { pistonPackageSchema, pistonResultSchema, pistonRuntimeSchema } from "../../src/api/compat/piston/openapi.js";
import type { ApiOptions } from "../../src/api/context.js";
import type { JobQueue } from "../../src/queue/index.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { deferred, eventually } from "../helpers/eventually.js";
import { testApp } from "./fixture.js";
import type { SessionMode } from "./sessions.case.js";

/** A real HTTP server serving /piston (WARREN_COMPAT=piston) on a queue whose jobs a real worker runs. */
export interface PistonServer {
  readonly base: string;
  readonly queue: JobQueue;
  readonly connections: PistonConnections;
  close(): Promise<void>;
}

export async function listenPiston(mode: SessionMode, options: Partial<ApiOptions> = {}): Promise<PistonServer> {
  const { api, startWorker } = await mode.open();
  const t = await testApp({ compat: ["piston"], ...options }, { queue: api, worker: false });
  const stopWorker = await startWorker();
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const connections = attachPistonConnect(server, t.deps);
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    queue: api,
    connections,
    close: async () => {
      await connections.close();
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

type Message = { readonly type: string } & Record<string, any>;

/** A real WebSocket client (`ws`) on /piston/api/v2/connect that keeps what it receives, and how it closed. */
class ConnectClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as Message);
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    void this.closed.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  static open(base: string, headers: Record<string, string> = {}): Promise<ConnectClient> {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/piston/api/v2/connect`, { headers });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new ConnectClient(ws)));
      ws.once("unexpected-response", (_request, response) => reject(Object.assign(new Error(`refused: ${response.statusCode}`), { status: response.statusCode })));
      ws.once("error", reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Everything received on STREAM so far. */
  output(stream = "stdout"): string {
    return this.messages.filter((message) => message.type === "data" && message.stream === stream).map((message) => message.data as string).join("");
  }

  /** Waits until CHECK holds (checked on every message); rejects if the connection closes first. */
  async until(what: string, check: () => boolean): Promise<void> {
    let closed = false;
    void this.closed.then(() => (closed = true));
    for (;;) {
      if (check()) return;
      if (closed || this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed before ${what}: ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }
}

/** Says it is ready, then doubles each line it reads, twice, and exits. */
const DOUBLER = "print('ready', flush=True)\nfor _ in range(2):\n    print(int(input()) * 2, flush=True)";
/** Writes `INT` on each SIGINT (os.write: a print could be one it interrupted), after saying it is ready. */
const TRAPS_INT = "import os, signal, time\nsignal.signal(signal.SIGINT, lambda *_: os.write(1, b'INT\\n'))\nprint('ready', flush=True)\nwhile True: time.sleep(1)";

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
        // piston-client sends args ["1","2","3"], -1 memory limits, text/plain, and no file name. Its default
        // timeouts (3 s run, 10 s compile) are raised: a JVM started on a machine busy with other tests may need more.
        const result = (await client.execute(runtime.language, code, { stdin: "world", runTimeout: 30_000, compileTimeout: 60_000 })) as Record<string, any>;
        expect(() => pistonResultSchema.parse(result), runtime.language).not.toThrow();
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

    it("reports output past Warren's output limit as OL (stdout) or EL (stderr only), killed", async () => {
      const out = await execute(s.base, { files: [{ content: "import sys\nsys.stdout.write('x' * 4_000_000)" }] });
      expect(out.body.run).toMatchObject({ code: null, signal: "SIGKILL", status: "OL", message: "stdout length exceeded" });
      const err = await execute(s.base, { files: [{ content: "import sys\nsys.stderr.write('x' * 4_000_000)" }] });
      expect(err.body.run).toMatchObject({ code: null, signal: "SIGKILL", status: "EL", message: "stderr length exceeded" });
    }, 60_000);

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

    it("lists the Piston endpoints in the OpenAPI document, and answers in the shapes it gives", async () => {
      const doc = (await (await fetch(`${s.base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/piston/api/v2/runtimes", "/piston/api/v2/execute", "/piston/api/v2/packages", "/piston/api/v2/connect"]));
      expect(JSON.stringify(doc.paths["/piston/api/v2/execute"])).toContain('"run_memory_limit"');
      const runtimes = await (await fetch(`${s.base}/piston/api/v2/runtimes`)).json();
      expect(() => z.array(pistonRuntimeSchema).parse(runtimes)).not.toThrow();
      const packages = await (await fetch(`${s.base}/piston/api/v2/packages`)).json();
      expect(() => z.array(pistonPackageSchema).parse(packages)).not.toThrow();
      const { body } = await execute(s.base, { language: "c", files: [{ content: "#include <stdio.h>\nint main(void) { puts(\"x\"); return 1; }" }] });
      expect(pistonResultSchema.parse(body)).toMatchObject({ compile: { code: 0 }, run: { code: 1, status: "RE" } });
    }, 60_000);

    it("answers an unknown path under /piston with a 404 {message}", async () => {
      const response = await fetch(`${s.base}/piston/api/v2/nothing`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: "No such endpoint: GET /piston/api/v2/nothing" });
    });

    it("cancels the run of an execute whose client goes away (Piston has no run ids: nobody could read it)", async () => {
      const queued = deferred<string>();
      const enqueue = s.queue.enqueue.bind(s.queue);
      s.queue.enqueue = async (job, priority) => {
        const result = await enqueue(job, priority);
        queued.resolve(job.id);
        return result;
      };
      try {
        const abort = new AbortController();
        const body = JSON.stringify({ language: "python", version: "*", files: [{ content: "import time\ntime.sleep(60)" }], run_timeout: 60_000 });
        const request = fetch(`${s.base}/piston/api/v2/execute`, { method: "POST", body, signal: abort.signal }).catch(() => "aborted");
        const id = await queued.promise;
        abort.abort();
        expect(await request).toBe("aborted");
        await eventually("the run cancelled", async () => ((await s.queue.getSerialized(id))?.status === "cancelled" ? true : undefined));
      } finally {
        s.queue.enqueue = enqueue;
      }
    }, 60_000);

    describe("the WebSocket /piston/api/v2/connect", () => {
      it("runs an interactive job: runtime, stage, data both ways, exit, then close 4999", async () => {
        const client = await ConnectClient.open(s.base);
        client.send({ type: "init", language: "python", version: "3.x", files: [{ content: DOUBLER }], run_timeout: 60_000 });
        await client.until("ready", () => client.output() === "ready\n");
        client.send({ type: "data", stream: "stdin", data: "21\n" });
        await client.until("the first answer", () => client.output() === "ready\n42\n");
        client.send({ type: "data", stream: "stdin", data: "5\n" });
        expect(await client.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(client.output()).toBe("ready\n42\n10\n");
        expect(client.messages[0]).toEqual({ type: "runtime", language: "python", version: expect.stringMatching(/^3\./) });
        expect(client.messages.filter((message) => message.type !== "data")).toEqual([client.messages[0], { type: "stage", stage: "run" }, { type: "exit", stage: "run", code: 0, signal: null }]);
        await eventually("no connection left open", () => (s.connections.open === 0 ? true : undefined));
      }, 60_000);

      it("compiles first: stage and exit of the compile stage, then the run's; a failed compile ends after its exit", async () => {
        const client = await ConnectClient.open(s.base);
        client.send({ type: "init", language: "c", version: "*", files: [{ name: "main.c", content: '#include <stdio.h>\nint main(void) { int x; scanf("%d", &x); printf("%d\\n", x + 1); return 2; }' }] });
        client.send({ type: "data", stream: "stdin", data: "41\n" });
        expect(await client.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(client.output()).toBe("42\n");
        expect(client.messages.filter((message) => message.type !== "data").map((message) => JSON.stringify(message))).toEqual([
          JSON.stringify({ type: "runtime", language: "c", version: client.messages[0]!.version }),
          '{"type":"stage","stage":"compile"}',
          '{"type":"exit","stage":"compile","code":0,"signal":null}',
          '{"type":"stage","stage":"run"}',
          '{"type":"exit","stage":"run","code":2,"signal":null}',
        ]);
        const broken = await ConnectClient.open(s.base);
        broken.send({ type: "init", language: "c", version: "*", files: [{ name: "main.c", content: "int main(void) { return }" }] });
        expect(await broken.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(broken.output("stderr")).toContain("error");
        expect(broken.messages.filter((message) => message.type === "stage" || message.type === "exit")).toEqual([
          { type: "stage", stage: "compile" },
          { type: "exit", stage: "compile", code: 1, signal: null },
        ]);
      }, 60_000);

      it("sends a signal to the program at once, and a time limit ends the run with SIGKILL", async () => {
        const client = await ConnectClient.open(s.base);
        client.send({ type: "init", language: "python", version: "*", files: [{ content: TRAPS_INT }], run_timeout: 60_000 });
        await client.until("ready", () => client.output() === "ready\n");
        client.send({ type: "signal", signal: "SIGINT" });
        await client.until("the trap", () => client.output() === "ready\nINT\n");
        client.send({ type: "signal", signal: "SIGKILL" });
        expect(await client.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(client.messages.at(-1)).toEqual({ type: "exit", stage: "run", code: null, signal: "SIGKILL" });
        const slow = await ConnectClient.open(s.base);
        slow.send({ type: "init", language: "python", version: "*", files: [{ content: "import time\ntime.sleep(30)" }], run_timeout: 300 });
        expect(await slow.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(slow.messages.at(-1)).toEqual({ type: "exit", stage: "run", code: null, signal: "SIGKILL" });
      }, 60_000);

      it("gives the program the `stdin` of init first (Piston ignores it), then what data messages bring", async () => {
        const client = await ConnectClient.open(s.base);
        client.send({ type: "init", language: "python", version: "*", files: [{ content: "print(input(), input())" }], stdin: "first\n" });
        client.send({ type: "data", stream: "stdin", data: "second\n" });
        expect(await client.closed).toEqual({ code: 4999, reason: "Job Completed" });
        expect(client.output()).toBe("first second\n");
      }, 60_000);

      it("closes with Piston's codes: 4000 a second init, 4001 no init in time, 4003 before init, 4004 not stdin, 4005 a bad signal", async () => {
        const cases: [Record<string, unknown>[], number, string][] = [
          [[{ type: "init", language: "python", version: "*", files: [{ content: "import time\ntime.sleep(30)" }] }, { type: "init", language: "python", version: "*", files: [{ content: "" }] }], 4000, "Already Initialized"],
          [[], 4001, "Initialization Timeout"],
          [[{ type: "data", stream: "stdin", data: "1\n" }], 4003, "Not yet initialized"],
          [[{ type: "signal", signal: "SIGINT" }], 4003, "Not yet initialized"],
          [[{ type: "init", language: "python", version: "*", files: [{ content: "import time\ntime.sleep(30)" }] }, { type: "data", stream: "stdout", data: "x" }], 4004, "Can only write to stdin"],
          [[{ type: "init", language: "python", version: "*", files: [{ content: "import time\ntime.sleep(30)" }] }, { type: "signal", signal: "SIGFOO" }], 4005, "Invalid signal"],
          // A type Piston does not know is ignored: the job still has to be initialised in time.
          [[{ type: "hello" }], 4001, "Initialization Timeout"],
        ];
        for (const [messages, code, reason] of cases) {
          const client = await ConnectClient.open(s.base);
          for (const message of messages) client.send(message);
          expect({ messages, closed: await client.closed }).toEqual({ messages, closed: { code, reason } });
        }
        await eventually("no connection left open", () => (s.connections.open === 0 ? true : undefined));
      }, 60_000);

      it("says an error in an `error` message with Piston's text, then closes 4002", async () => {
        const cases: [string, string][] = [
          [JSON.stringify({ type: "init", language: "cobol", version: "*", files: [{ content: "x" }] }), "cobol-* runtime is unknown"],
          [JSON.stringify({ type: "init", language: "python", version: "*" }), "files is required as an array"],
          [JSON.stringify({ type: "init", language: "python", version: "*", files: [{ content: "x" }], run_timeout: 10 ** 9 }), `run_timeout cannot exceed the configured limit of ${MAX_LIMITS.wallTimeMs}`],
        ];
        for (const [text, message] of cases) {
          const client = await ConnectClient.open(s.base);
          client.ws.send(text);
          expect({ text, closed: await client.closed, messages: client.messages }).toEqual({ text, closed: { code: 4002, reason: "Notified Error" }, messages: [{ type: "error", message }] });
        }
        const garbled = await ConnectClient.open(s.base);
        garbled.ws.send("{not json");
        expect(await garbled.closed).toEqual({ code: 4002, reason: "Notified Error" });
        expect(garbled.messages).toEqual([{ type: "error", message: expect.stringContaining("not valid JSON") }]);
      }, 60_000);

      it("cancels the run of a client that goes away, and keeps nothing of it", async () => {
        const finished: string[] = [];
        const unsubscribe = await s.queue.onFinished((id) => finished.push(id));
        try {
          const client = await ConnectClient.open(s.base);
          client.send({ type: "init", language: "python", version: "*", files: [{ content: "import time\nprint('ready', flush=True)\ntime.sleep(60)" }], run_timeout: 60_000 });
          await client.until("ready", () => client.output() === "ready\n");
          client.ws.terminate();
          await eventually("its run cancelled", async () => {
            const statuses = await Promise.all(finished.map(async (id) => (await s.queue.getSerialized(id))?.status));
            return statuses.includes("cancelled") ? true : undefined;
          });
          await eventually("no connection left open", () => (s.connections.open === 0 ? true : undefined));
          expect(s.queue.events.watchers).toBe(0);
        } finally {
          unsubscribe();
        }
      }, 60_000);
    });
  });
}

/** With WARREN_API_KEYS, /piston takes the key as /v1 does (Authorization: Bearer), over HTTP and on the WebSocket. */
export function pistonKeysContract(name: string, mode: SessionMode): void {
  describe(`Piston v2 with API keys (${name})`, () => {
    let s: PistonServer;
    beforeAll(async () => {
      s = await listenPiston(mode, { apiKeys: ["key-alice"] });
    });
    afterAll(async () => {
      await s?.close();
    });

    it("answers 401 {message} without the key, and runs with it", async () => {
      const bare = await fetch(`${s.base}/piston/api/v2/runtimes`);
      expect(bare.status).toBe(401);
      expect(await bare.json()).toEqual({ message: expect.stringContaining("Authorization: Bearer") });
      const unkeyed = await execute(s.base, { files: [{ content: "print(1)" }] });
      expect(unkeyed.status).toBe(401);
      const keyed = await post(s.base, "/api/v2/execute", { language: "python", version: "*", files: [{ content: "print(1)" }] }, { authorization: "Bearer key-alice" });
      expect(keyed.status).toBe(200);
      expect(((await keyed.json()) as Record<string, any>).run.stdout).toBe("1\n");
      // piston-client sends no key: it gets Warren's answer as Piston's error shape.
      expect(await piston({ server: `${s.base}/piston` }).runtimes()).toEqual({ message: expect.stringContaining("API key") });
    }, 60_000);

    it("refuses the WebSocket upgrade without the key (401), and takes it with", async () => {
      await expect(ConnectClient.open(s.base)).rejects.toMatchObject({ status: 401 });
      const client = await ConnectClient.open(s.base, { authorization: "Bearer key-alice" });
      client.send({ type: "init", language: "python", version: "*", files: [{ content: "print(2)" }] });
      expect(await client.closed).toEqual({ code: 4999, reason: "Job Completed" });
      expect(client.output()).toBe("2\n");
    }, 60_000);
  });
}

/** Piston waits for its job however long it takes; Warren waits WARREN_WAIT_MS at most, then cancels the run. */
export function pistonWaitContract(name: string, mode: SessionMode): void {
  describe(`Piston v2 past the wait (${name})`, () => {
    let s: PistonServer;
    beforeAll(async () => {
      s = await listenPiston(mode, { waitMs: 500 });
    });
    afterAll(async () => {
      await s?.close();
    });

    it("answers 504 {message} and cancels a run that outlasts WARREN_WAIT_MS", async () => {
      const finished: string[] = [];
      const unsubscribe = await s.queue.onFinished((id) => finished.push(id));
      try {
        const { status, body } = await execute(s.base, { files: [{ content: "import time\ntime.sleep(30)" }], run_timeout: 60_000 });
        expect(status).toBe(504);
        expect(body).toEqual({ message: "The run did not finish within 500 ms (WARREN_WAIT_MS); it was cancelled." });
        await eventually("its run cancelled", async () => {
          const statuses = await Promise.all(finished.map(async (id) => (await s.queue.getSerialized(id))?.status));
          return statuses.includes("cancelled") ? true : undefined;
        });
      } finally {
        unsubscribe();
      }
    }, 60_000);
  });
}
