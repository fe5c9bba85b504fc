import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobQueue } from "../../src/queue/index.js";
import { eventually } from "../helpers/eventually.js";
import { LOOPBACK_CALLBACKS, testApp, type TestApp } from "../api/fixture.js";
import { makeZip } from "../helpers/zip.js";

/** Makes the queue under test. */
export type OpenQueue = () => Promise<JobQueue>;

const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const PYTHON = 71;
const C = 50;
const DEFAULT_KEYS = ["compile_output", "memory", "message", "status", "stderr", "stdout", "time", "token"];

interface Submission {
  readonly token: string;
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly compile_output: string | null;
  readonly message: string | null;
  readonly time: string | null;
  readonly wall_time?: string | null;
  readonly memory: number | null;
  readonly exit_code?: number | null;
  readonly exit_signal?: number | null;
  readonly status: { readonly id: number; readonly description: string };
  readonly [field: string]: unknown;
}

/**
 * Judge0 CE v1.13.1's API, field by field from its documented behaviour
 * (its controllers, model validations, serializer and isolate_job), against
 * real sandboxes on the queue OPEN makes.
 */
export function judge0Contract(name: string, open: OpenQueue): void {
  describe(`Judge0 CE API (${name})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await testApp({ compat: ["judge0"] }, { queue: await open(), callback: LOOPBACK_CALLBACKS });
    });
    afterAll(async () => {
      await t?.close();
    });

    const call = (path: string, init?: RequestInit) => t.app.request(`/judge0${path}`, init);
    const waitRun = async (body: Record<string, unknown>, query = ""): Promise<Submission> => {
      const response = await call(`/submissions?wait=true${query}`, json(body));
      expect(response.status).toBe(201);
      return (await response.json()) as Submission;
    };
    const python = (source_code: string, extra: Record<string, unknown> = {}) => waitRun({ language_id: PYTHON, source_code, ...extra }, "&fields=*");
    const c = (source_code: string, extra: Record<string, unknown> = {}) => waitRun({ language_id: C, source_code, ...extra }, "&fields=*");

    it("lists the installed images' languages by Judge0 id, with their real versions", async () => {
      const installed = t.deps.languages();
      const python3 = installed.find((language) => language.id === "python")!;
      const languages = (await (await call("/languages")).json()) as { id: number; name: string }[];
      expect(languages).toContainEqual({ id: 71, name: `Python (${python3.version.detected})` });
      const gcc = installed.find((language) => language.id === "c");
      if (gcc !== undefined) expect(languages).toContainEqual({ id: 50, name: `C (GCC ${gcc.version.detected})` });
      for (const language of languages) expect(Object.keys(language).sort()).toEqual(["id", "name"]);
      // Only what an installed image has: Judge0's Haskell (61) is absent unless an image provides it.
      expect(languages.some((language) => language.id === 61)).toBe(installed.some((language) => language.id === "haskell"));
      const all = (await (await call("/languages/all")).json()) as { id: number; is_archived: boolean }[];
      expect(all.map((language) => language.id)).toEqual(languages.map((language) => language.id));
      expect(all.every((language) => language.is_archived === false)).toBe(true);
      const one = (await (await call("/languages/71")).json()) as Record<string, unknown>;
      expect(one).toMatchObject({ id: 71, is_archived: false, source_file: "main.py", compile_cmd: null });
      expect((await call("/languages/9999")).status).toBe(404);
    });

    it("answers statuses 1–14 with Judge0's descriptions, /about 1.13.1, /version, and every /config_info key with Warren's limits", async () => {
      const statuses = (await (await call("/statuses")).json()) as { id: number; description: string }[];
      expect(statuses.map((status) => status.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(statuses[6]).toEqual({ id: 7, description: "Runtime Error (SIGSEGV)" });
      expect(statuses[11]).toEqual({ id: 12, description: "Runtime Error (Other)" });
      expect(statuses[13]).toEqual({ id: 14, description: "Exec Format Error" });
      expect(((await (await call("/about")).json()) as { version: string }).version).toBe("1.13.1");
      expect(await (await call("/version")).text()).toBe("1.13.1");
      const config = (await (await call("/config_info")).json()) as Record<string, unknown>;
      for (const key of [
        "maintenance_mode", "enable_wait_result", "enable_compiler_options", "allowed_languages_for_compile_options", "enable_command_line_arguments",
        "enable_submission_delete", "enable_callbacks", "callbacks_max_tries", "callbacks_timeout", "enable_additional_files", "max_queue_size",
        "cpu_time_limit", "max_cpu_time_limit", "cpu_extra_time", "max_cpu_extra_time", "wall_time_limit", "max_wall_time_limit", "memory_limit",
        "max_memory_limit", "stack_limit", "max_stack_limit", "max_processes_and_or_threads", "max_max_processes_and_or_threads",
        "enable_per_process_and_thread_time_limit", "allow_enable_per_process_and_thread_time_limit", "enable_per_process_and_thread_memory_limit",
        "allow_enable_per_process_and_thread_memory_limit", "max_file_size", "max_max_file_size", "number_of_runs", "max_number_of_runs",
        "redirect_stderr_to_stdout", "max_extract_size", "enable_batched_submissions", "max_submission_batch_size", "submission_cache_duration",
        "use_docs_as_homepage", "allow_enable_network", "enable_network",
      ]) expect(config, key).toHaveProperty(key);
      expect(config).toMatchObject({ cpu_time_limit: 5, max_cpu_time_limit: 15, memory_limit: 128000, max_memory_limit: 512000, max_submission_batch_size: 20, enable_network: false, allow_enable_network: false });
      for (const path of ["/system_info", "/workers", "/statistics"]) expect((await call(path)).status, path).toBe(200);
      expect(await (await call("/isolate")).text()).toMatch(/Warren/);
    });

    it("creates a submission (201, only its token), which a client polls until it is done", async () => {
      const created = await call("/submissions", json({ language_id: PYTHON, source_code: "print(input() * 2)", stdin: "ab" }));
      expect(created.status).toBe(201);
      const { token, ...rest } = (await created.json()) as { token: string };
      expect(rest).toEqual({});
      expect(token).toMatch(/^[0-9a-f-]{36}$/);
      const done = await eventually("the submission to finish", async () => {
        const submission = (await (await call(`/submissions/${token}`)).json()) as Submission;
        return submission.status.id > 2 ? submission : undefined;
      });
      expect(Object.keys(done).sort()).toEqual(DEFAULT_KEYS);
      expect(done).toMatchObject({ token, stdout: "abab\n", stderr: null, compile_output: null, message: null, status: { id: 3, description: "Accepted" } });
      expect(done.time).toMatch(/^\d+\.\d+$/);
      expect(Number.isInteger(done.memory)).toBe(true);
      expect((await call("/submissions/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    });

    it("wait=true answers 201 with the finished submission's default fields; fields=* with every field, Judge0's defaults and decimals as strings", async () => {
      const plain = await waitRun({ language_id: PYTHON, source_code: "print('hi')" });
      expect(Object.keys(plain).sort()).toEqual(DEFAULT_KEYS);
      expect(plain.status.id).toBe(3);
      const all = await python("print('hi')");
      expect(all).toMatchObject({
        language_id: 71,
        source_code: "print('hi')",
        stdin: null,
        expected_output: null,
        status_id: 3,
        number_of_runs: 1,
        cpu_time_limit: "5.0",
        cpu_extra_time: "1.0",
        wall_time_limit: "10.0",
        memory_limit: 128000,
        stack_limit: 64000,
        max_processes_and_or_threads: 60,
        max_file_size: 1024,
        enable_per_process_and_thread_time_limit: false,
        enable_per_process_and_thread_memory_limit: false,
        redirect_stderr_to_stdout: false,
        enable_network: false,
        exit_code: 0,
        exit_signal: null,
        language: { id: 71, name: expect.stringMatching(/^Python \(\d+\.\d+\.\d+\)$/) },
      });
      expect(all.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(all.finished_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(all.wall_time).toMatch(/^\d+\.\d+$/);
    });

    it("judges expected_output as Judge0 does: trailing blanks of each line and trailing blank lines ignored", async () => {
      expect((await python("print('1 2  ')\nprint()\nprint()", { expected_output: "1 2\n" })).status).toEqual({ id: 3, description: "Accepted" });
      expect((await python("print('a \\t ')\nprint('b')", { expected_output: "a\nb" })).status).toEqual({ id: 3, description: "Accepted" });
      // Leading blanks and blank lines inside count.
      expect((await python("print(' a')", { expected_output: "a" })).status.id).toBe(4);
      expect((await python("print('a')\nprint()\nprint('b')", { expected_output: "a\nb" })).status.id).toBe(4);
      expect((await python("print('1  2')", { expected_output: "1 2" })).status).toEqual({ id: 4, description: "Wrong Answer" });
    });

    it("a compile error is status 6 with the compiler's output", async () => {
      const submission = await c("int main(void) { return x; }");
      expect(submission.status).toEqual({ id: 6, description: "Compilation Error" });
      expect(submission.compile_output).toMatch(/error/);
      expect(submission.stdout).toBeNull();
      expect(submission.time).toBeNull();
    });

    it("a program over its CPU time limit is status 5", async () => {
      const submission = await python("while True: pass", { cpu_time_limit: 0.5, cpu_extra_time: 0.2 });
      expect(submission.status).toEqual({ id: 5, description: "Time Limit Exceeded" });
    });

    it("maps each signal class to Judge0's runtime error statuses, a non-zero exit to NZEC, a memory kill to Other with its message", async () => {
      const segv = await c("#include <signal.h>\nint main(void) { raise(SIGSEGV); return 0; }");
      expect(segv).toMatchObject({ status: { id: 7, description: "Runtime Error (SIGSEGV)" }, exit_signal: 11, message: "Caught fatal signal 11" });
      const fpe = await c("#include <signal.h>\nint main(void) { raise(SIGFPE); return 0; }");
      expect(fpe).toMatchObject({ status: { id: 9, description: "Runtime Error (SIGFPE)" }, exit_signal: 8 });
      const abrt = await c("#include <stdlib.h>\nint main(void) { abort(); }");
      expect(abrt).toMatchObject({ status: { id: 10, description: "Runtime Error (SIGABRT)" }, exit_signal: 6 });
      const other = await c("#include <signal.h>\nint main(void) { raise(SIGUSR1); return 0; }");
      expect(other).toMatchObject({ status: { id: 12, description: "Runtime Error (Other)" }, exit_signal: 10 });
      const xfsz = await python("import sys\nsys.stdout.write('x' * 4_000_000)", { max_file_size: 64 });
      expect(xfsz.status).toEqual({ id: 8, description: "Runtime Error (SIGXFSZ)" });
      const nzec = await python("import sys\nprint('out')\nsys.exit(3)");
      expect(nzec).toMatchObject({ status: { id: 11, description: "Runtime Error (NZEC)" }, exit_code: 3, message: "Exited with error status 3", stdout: "out\n" });
      const memory = await python("x = bytearray(200 * 1024 * 1024)\nprint(len(x))", { memory_limit: 65536 });
      expect(memory).toMatchObject({ status: { id: 12, description: "Runtime Error (Other)" }, message: "Memory limit exceeded" });
    });

    it("base64_encoded=true: texts in base64 both ways, encoded as Ruby's encode64 (60-column lines, a final newline); decoding is lenient as Ruby's", async () => {
      const line = "x".repeat(100);
      const submission = await waitRun({ language_id: PYTHON, source_code: b64(`print(${JSON.stringify(line)})`), stdin: b64("in") }, "&base64_encoded=true&fields=*");
      const encoded = Buffer.from(`${line}\n`).toString("base64");
      expect(submission.stdout).toBe(`${encoded.slice(0, 60)}\n${encoded.slice(60, 120)}\n${encoded.slice(120)}\n`);
      expect(submission.stdin).toBe(`${b64("in")}\n`);
      expect(Buffer.from(submission.source_code as string, "base64").toString()).toBe(`print(${JSON.stringify(line)})`);
      // Ruby's decode64 skips what is not base64 (here a line break and stray characters) and never fails.
      const lenient = await waitRun({ language_id: PYTHON, source_code: `${b64("print('ok')").slice(0, 8)}\n!${b64("print('ok')").slice(8)}` }, "&base64_encoded=true");
      expect(lenient.status.id).toBe(3);
      expect(lenient.stdout).toBe(`${b64("ok\n")}\n`);
      // Without base64_encoded the same submission reads as text.
      const again = (await (await call(`/submissions/${lenient.token}`)).json()) as Submission;
      expect(again.stdout).toBe("ok\n");
    });

    it("fields: the asked ones only, in Judge0's order; an unknown one is a 400 naming it", async () => {
      const submission = await waitRun({ language_id: PYTHON, source_code: "print(1)" }, "&fields=status_id,stdout,language_id");
      expect(Object.keys(submission)).toEqual(["language_id", "stdout", "status_id"]);
      const bad = await call(`/submissions/${(await waitRun({ language_id: PYTHON, source_code: "print(1)" })).token}?fields=stdout,bogus,nope`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: "invalid fields: [bogus, nope]" });
    });

    it("answers 422 with {field: [messages]} for each invalid field, Judge0's messages", async () => {
      const errors = async (body: Record<string, unknown>) => {
        const response = await call("/submissions", json(body));
        expect(response.status).toBe(422);
        return response.json();
      };
      expect(await errors({ language_id: 9999, source_code: "x" })).toEqual({ language_id: ["language with id 9999 doesn't exist"] });
      expect(await errors({ language_id: PYTHON })).toEqual({ source_code: ["can't be blank"] });
      expect(await errors({ source_code: "x" })).toEqual({ language_id: ["can't be blank"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", cpu_time_limit: 16 })).toEqual({ cpu_time_limit: ["must be less than or equal to 15.0"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", cpu_extra_time: -1 })).toEqual({ cpu_extra_time: ["must be greater than or equal to 0.0"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", wall_time_limit: "abc" })).toEqual({ wall_time_limit: ["is not a number"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", memory_limit: 1000 })).toEqual({ memory_limit: ["must be greater than or equal to 2048"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", memory_limit: 600000 })).toEqual({ memory_limit: ["must be less than or equal to 512000"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", number_of_runs: 0 })).toEqual({ number_of_runs: ["must be greater than 0"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", max_processes_and_or_threads: 121 })).toEqual({ max_processes_and_or_threads: ["must be less than or equal to 120"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", compiler_options: "-O3" })).toEqual({ compiler_options: ["setting compiler options is only allowed for compiled languages"] });
      expect(await errors({ language_id: PYTHON, source_code: "x", command_line_arguments: "a".repeat(513) })).toEqual({ command_line_arguments: ["is too long (maximum is 512 characters)"] });
      const network = (await errors({ language_id: PYTHON, source_code: "x", enable_network: true })) as Record<string, string[]>;
      expect(network.enable_network?.[0]).toMatch(/^enabling network is not allowed/);
      expect(Object.keys((await errors({ language_id: PYTHON, source_code: "x", callback_url: "http://127.0.0.1:8080/hook" })) as object)).toEqual(["callback_url"]);
      const bad = await call("/submissions", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
      expect(bad.status).toBe(400);
    });

    it("takes Judge0's limits, stdin, arguments and redirect_stderr_to_stdout, and repeats number_of_runs times", async () => {
      const args = await python("import sys\nprint(sys.argv[1:])", { command_line_arguments: `a "b c" 'd'` });
      expect(args.stdout).toBe("['a', 'b c', 'd']\n");
      const merged = await python("import sys\nprint('out', flush=True)\nprint('err', file=sys.stderr)", { redirect_stderr_to_stdout: true });
      expect(merged).toMatchObject({ stdout: "out\nerr\n", stderr: null, redirect_stderr_to_stdout: true });
      const runs = await python("print(input())", { stdin: "again", number_of_runs: 3, cpu_time_limit: "2", memory_limit: "65536" });
      expect(runs).toMatchObject({ status: { id: 3 }, stdout: "again\n", number_of_runs: 3, cpu_time_limit: "2.0", memory_limit: 65536 });
    });

    it("language 89, Multi-file program: additional_files' compile script once, then its run script, beside each other's files", async () => {
      const languages = (await (await call("/languages")).json()) as { id: number; name: string }[];
      expect(languages).toContainEqual({ id: 89, name: "Multi-file program" });
      const zip = makeZip([
        { name: "compile", content: "echo compiling\ncp src/greet.txt built.txt\n" },
        { name: "run", content: "read name\necho \"$(cat built.txt), $name\"\n", deflate: true },
        { name: "src/greet.txt", content: "Hello", deflate: true },
      ]);
      const submission = await waitRun({ language_id: 89, additional_files: zip.toString("base64"), stdin: "Warren" }, "&fields=*");
      expect(submission).toMatchObject({ status: { id: 3 }, stdout: "Hello, Warren\n", stderr: null, compile_output: "compiling\n", language: { id: 89, name: "Multi-file program" } });
      expect(submission.additional_files).toBe(zip.toString("base64").replace(/(.{60})/g, "$1\n").replace(/\n?$/, "\n"));
      const failing = await waitRun({ language_id: 89, additional_files: makeZip([{ name: "compile.sh", content: "echo broken >&2\nexit 2\n" }, { name: "run.sh", content: "echo never\n" }]).toString("base64") });
      expect(failing).toMatchObject({ status: { id: 6, description: "Compilation Error" }, compile_output: "broken\n", stdout: null });
      const noCompile = await waitRun({ language_id: 89, additional_files: makeZip([{ name: "run.sh", content: "echo only run; echo oops >&2\n" }]).toString("base64") });
      expect(noCompile).toMatchObject({ status: { id: 3 }, stdout: "only run\n", stderr: "oops\n", compile_output: null });
    });

    it("additional_files for any language: unpacked beside the source (which wins over an entry of its name); bad archives are 422s", async () => {
      const zip = makeZip([{ name: "data/input.txt", content: "42" }, { name: "main.py", content: "print('not me')" }]);
      const submission = await python("print(open('data/input.txt').read())", { additional_files: zip.toString("base64") });
      expect(submission).toMatchObject({ status: { id: 3 }, stdout: "42\n" });
      const errors = async (additional_files: string, extra: Record<string, unknown> = {}) => {
        const response = await call("/submissions", json({ language_id: PYTHON, source_code: "print(1)", additional_files, ...extra }));
        expect(response.status).toBe(422);
        return ((await response.json()) as Record<string, string[]>).additional_files?.[0];
      };
      expect(await errors(Buffer.from("not a zip at all").toString("base64"))).toMatch(/^is not a zip archive/);
      // yauzl refuses such names itself; Warren's path check is the second guard.
      expect(await errors(makeZip([{ name: "../escape", content: "x" }]).toString("base64"))).toMatch(/cannot be unpacked here|invalid relative path/);
      expect(await errors(makeZip([{ name: "a/./b", content: "x" }]).toString("base64"))).toMatch(/cannot be unpacked here/);
      expect(await errors(makeZip([{ name: "/etc/passwd", content: "x" }]).toString("base64"))).toMatch(/cannot be unpacked here|absolute path/);
      // A bomb: 11 MiB of zeros that declares 10 bytes; it stops at the bound, it is not unpacked whole.
      expect(await errors(makeZip([{ name: "bomb", content: Buffer.alloc(11 * 1024 * 1024), deflate: true, declaredSize: 10 }]).toString("base64"))).toMatch(/more than 10240 KB|not a valid zip|cannot be read/);
      expect(await errors(makeZip([{ name: "big", content: Buffer.alloc(11 * 1024 * 1024), deflate: true }]).toString("base64"))).toBe("unpacks to more than 10240 KB");
      const project = await call("/submissions", json({ language_id: 89, source_code: "echo hi" }));
      expect(await project.json()).toEqual({ source_code: ["must be blank"], additional_files: ["can't be blank"] });
    });

    it("batches: at most 20 created at once (each its token or its errors), read back by tokens", async () => {
      const created = await call("/submissions/batch", json({ submissions: [{ language_id: PYTHON, source_code: "print(1)" }, { language_id: 9999, source_code: "x" }, { language_id: PYTHON, source_code: "print(2)" }] }));
      expect(created.status).toBe(201);
      const answers = (await created.json()) as ({ token: string } | Record<string, string[]>)[];
      expect(answers[1]).toEqual({ language_id: ["language with id 9999 doesn't exist"] });
      const tokens = [(answers[0] as { token: string }).token, (answers[2] as { token: string }).token];
      const read = await eventually("both to finish", async () => {
        const body = (await (await call(`/submissions/batch?tokens=${tokens.join(",")},00000000-0000-0000-0000-000000000000&fields=token,stdout,status_id`)).json()) as { submissions: (Submission | null)[] };
        return body.submissions.slice(0, 2).every((submission) => submission !== null && (submission.status_id as number) > 2) ? body.submissions : undefined;
      });
      expect(read).toEqual([{ token: tokens[0], stdout: "1\n", status_id: 3 }, { token: tokens[1], stdout: "2\n", status_id: 3 }, null]);
      const allBad = await call("/submissions/batch", json({ submissions: [{ language_id: 9999, source_code: "x" }] }));
      expect(allBad.status).toBe(422);
      const tooMany = await call("/submissions/batch", json({ submissions: Array.from({ length: 21 }, () => ({ language_id: PYTHON, source_code: "print(1)" })) }));
      expect(tooMany.status).toBe(400);
      expect(await tooMany.json()).toEqual({ error: "number of submissions in a batch should be less than or equal to 20" });
      expect(await (await call("/submissions/batch", json({ submissions: [] }))).json()).toEqual({ error: "there should be at least one submission in a batch" });
      const readTooMany = await call(`/submissions/batch?tokens=${Array.from({ length: 21 }, () => "t").join(",")}`);
      expect(readTooMany.status).toBe(400);
    });

    it("lists submissions newest first, paged, with Judge0's meta", async () => {
      const first = await waitRun({ language_id: PYTHON, source_code: "print('first')" });
      const second = await waitRun({ language_id: PYTHON, source_code: "print('second')" });
      const page1 = (await (await call("/submissions?per_page=1&fields=token")).json()) as { submissions: { token: string }[]; meta: Record<string, unknown> };
      expect(page1.submissions).toEqual([{ token: second.token }]);
      expect(page1.meta).toMatchObject({ current_page: 1, prev_page: null, next_page: 2 });
      expect(page1.meta.total_count as number).toBeGreaterThanOrEqual(2);
      const page2 = (await (await call("/submissions?per_page=1&page=2&fields=token")).json()) as { submissions: { token: string }[]; meta: Record<string, unknown> };
      expect(page2.submissions).toEqual([{ token: first.token }]);
      expect(page2.meta).toMatchObject({ current_page: 2, prev_page: 1 });
      expect(await (await call("/submissions?page=0")).json()).toEqual({ error: "invalid page: 0" });
      expect(await (await call("/submissions?per_page=-1")).json()).toEqual({ error: "invalid per_page: -1" });
    });

    it("deletes a finished submission (answered in base64), refuses one still running", async () => {
      const done = await waitRun({ language_id: PYTHON, source_code: "print('bye')" });
      const deleted = await call(`/submissions/${done.token}?fields=stdout,status_id`, { method: "DELETE" });
      expect(deleted.status).toBe(200);
      expect(await deleted.json()).toEqual({ stdout: `${b64("bye\n")}\n`, status_id: 3 });
      expect((await call(`/submissions/${done.token}`)).status).toBe(404);
      const { token } = (await (await call("/submissions", json({ language_id: PYTHON, source_code: "import time\ntime.sleep(30)", wall_time_limit: 20 }))).json()) as { token: string };
      const refused = await call(`/submissions/${token}`, { method: "DELETE" });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toMatch(/^submission cannot be deleted because its status is [12] \((In Queue|Processing)\)$/);
      await t.app.request(`/v1/runs/${token}`, { method: "DELETE" });
    });

    it("PUTs the finished submission (default fields, base64) to callback_url", async () => {
      const received: { method: string; body: string }[] = [];
      const server: Server = createServer((request: IncomingMessage, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          received.push({ method: request.method ?? "", body: Buffer.concat(chunks).toString() });
          response.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/judge0-hook`;
        const created = await call("/submissions", json({ language_id: PYTHON, source_code: "print('called back')", callback_url: url }));
        const { token } = (await created.json()) as { token: string };
        const hook = await eventually("the callback", () => received[0]);
        expect(hook.method).toBe("PUT");
        const body = JSON.parse(hook.body) as Submission;
        expect(Object.keys(body).sort()).toEqual(DEFAULT_KEYS);
        expect(body).toMatchObject({ token, stdout: `${b64("called back\n")}\n`, status: { id: 3, description: "Accepted" } });
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
}
