import { z } from "zod";
import type { Limits } from "../../../run/limits.js";
import { judge0Config, MAX_BATCH } from "./config.js";
import { ALL_FIELDS, DEFAULT_FIELDS } from "./submission.js";
import { STATUSES } from "./statuses.js";

const json = (schema: z.ZodType) => ({ "application/json": { schema: z.toJSONSchema(schema, { unrepresentable: "any" }) } });
const judge0Error = (description: string) => ({ description, content: json(z.object({ error: z.string() })) });

/** A submission's request body, for the document (submission.ts validates it field by field as Judge0 does). */
function submissionRequestSchema(maxima: Limits) {
  const config = judge0Config(maxima);
  const seconds = (what: string, fallback: number, max: number) => z.union([z.number(), z.string()]).optional().describe(`${what}, seconds; default ${fallback}, at most ${max}`);
  const integer = (what: string, fallback: number, max: number) => z.union([z.number(), z.string()]).optional().describe(`${what}; default ${fallback}, at most ${max}`);
  return z.object({
    source_code: z.string().optional().describe("The program (base64 with ?base64_encoded=true); absent for language 89"),
    language_id: z.union([z.number(), z.string()]).describe("A Judge0 language id from GET /judge0/languages"),
    compiler_options: z.string().nullable().optional().describe("Refused when set: Warren's compile commands are fixed"),
    command_line_arguments: z.string().nullable().optional().describe("Split as a shell would, at most 512 characters"),
    stdin: z.string().nullable().optional(),
    expected_output: z.string().nullable().optional().describe("Compared as Judge0 does: trailing blanks of each line and trailing blank lines ignored"),
    cpu_time_limit: seconds("CPU time", config.cpu_time_limit, config.max_cpu_time_limit),
    cpu_extra_time: seconds("Extra CPU time before the kill", config.cpu_extra_time, config.max_cpu_extra_time),
    wall_time_limit: seconds("Wall time", config.wall_time_limit, config.max_wall_time_limit),
    memory_limit: integer("Memory, KB (at least 2048)", config.memory_limit, config.max_memory_limit),
    stack_limit: integer("Stack, KB (kept, not enforced)", config.stack_limit, config.max_stack_limit),
    max_processes_and_or_threads: integer("Processes and threads", config.max_processes_and_or_threads, config.max_max_processes_and_or_threads),
    enable_per_process_and_thread_time_limit: z.boolean().optional().describe("Kept, not enforced: limits hold for the whole process tree"),
    enable_per_process_and_thread_memory_limit: z.boolean().optional().describe("Kept, not enforced: limits hold for the whole process tree"),
    max_file_size: integer("Output, KB (past it: status 8, SIGXFSZ)", config.max_file_size, config.max_max_file_size),
    redirect_stderr_to_stdout: z.boolean().optional().describe("stderr appended to stdout"),
    number_of_runs: integer("Runs (compiled once); time and memory are their mean", config.number_of_runs, config.max_number_of_runs),
    callback_url: z.string().nullable().optional().describe("PUT the finished submission (default fields, base64) here"),
    additional_files: z.string().nullable().optional().describe("A zip, base64: unpacked beside the source; language 89 (Multi-file program): the program, with its compile and run scripts"),
    enable_network: z.boolean().optional().describe("true is refused: Warren's sandboxes have no network"),
  });
}

const submissionSchema = z
  .object({
    token: z.string(),
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    compile_output: z.string().nullable(),
    message: z.string().nullable(),
    time: z.string().nullable().describe("CPU seconds, a decimal string"),
    memory: z.number().nullable().describe("KB"),
    status: z.object({ id: z.number().int().min(1).max(14), description: z.string() }),
  })
  .catchall(z.unknown())
  .describe(`A submission: the fields asked for (?fields=, * for all: ${ALL_FIELDS.join(", ")}); by default ${DEFAULT_FIELDS.join(", ")}`);

/** Judge0 CE v1.13.1's endpoints as Warren serves them under /judge0 (WARREN_COMPAT=judge0; docs/compat.md). */
export function judge0Paths(maxima: Limits): Record<string, unknown> {
  const tag = ["Judge0 CE (WARREN_COMPAT=judge0)"];
  const base64 = { name: "base64_encoded", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] }, description: "Texts in base64 (Ruby's encode64: 60-column lines)" };
  const fields = { name: "fields", in: "query", required: false, schema: { type: "string" }, description: "Comma-separated fields, or *" };
  const token = { name: "token", in: "path", required: true, schema: { type: "string" } };
  const submission = { description: "The submission", content: json(submissionSchema) };
  const invalid = { description: "Invalid fields: {field: [messages]}", content: json(z.record(z.string(), z.array(z.string()))) };
  const info = (summary: string) => ({ get: { tags: tag, summary, responses: { "200": { description: summary } } } });
  return {
    "/judge0/submissions": {
      post: {
        tags: tag,
        summary: "Create a submission (a Warren run); 201 {token}, or with wait=true the finished submission",
        parameters: [base64, fields, { name: "wait", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] }, description: "Wait (at most WARREN_WAIT_MS) for the result" }],
        requestBody: { required: true, content: json(submissionRequestSchema(maxima)) },
        responses: { "201": submission, "400": judge0Error("Bad JSON or fields"), "422": invalid },
      },
      get: {
        tags: tag,
        summary: "This API key's submissions, newest first, paged",
        parameters: [base64, fields, { name: "page", in: "query", required: false, schema: { type: "integer" } }, { name: "per_page", in: "query", required: false, schema: { type: "integer", maximum: 100 } }],
        responses: { "200": { description: "{submissions, meta: {current_page, next_page, prev_page, total_pages, total_count}}" }, "400": judge0Error("invalid page or per_page") },
      },
    },
    "/judge0/submissions/batch": {
      post: {
        tags: tag,
        summary: `Create up to ${MAX_BATCH} submissions: each its {token} or its field errors`,
        parameters: [base64],
        requestBody: { required: true, content: json(z.object({ submissions: z.array(submissionRequestSchema(maxima)).max(MAX_BATCH) })) },
        responses: { "201": { description: "At least one was created" }, "400": judge0Error("none, or more than 20"), "422": { description: "None was valid" } },
      },
      get: {
        tags: tag,
        summary: `Up to ${MAX_BATCH} submissions by token (null for an unknown one)`,
        parameters: [base64, fields, { name: "tokens", in: "query", required: true, schema: { type: "string" }, description: "Comma-separated tokens" }],
        responses: { "200": { description: "{submissions: [submission | null]}" }, "400": judge0Error("none, or more than 20") },
      },
    },
    "/judge0/submissions/{token}": {
      get: { tags: tag, summary: "A submission", parameters: [token, base64, fields], responses: { "200": submission, "400": judge0Error("invalid fields"), "404": judge0Error("Not Found") } },
      delete: { tags: tag, summary: "Delete a finished submission (answered in base64)", parameters: [token, fields], responses: { "200": submission, "400": judge0Error("still queued or processing"), "404": judge0Error("Not Found") } },
    },
    "/judge0/languages": info("The languages of the installed images by Judge0 id: [{id, name}]"),
    "/judge0/languages/all": info("The same, with is_archived"),
    "/judge0/languages/{id}": { get: { tags: tag, summary: "One language: id, name, is_archived, source_file, compile_cmd, run_cmd", parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }], responses: { "200": { description: "The language" }, "404": judge0Error("Not Found") } } },
    "/judge0/statuses": info(`Statuses: ${STATUSES.map((status) => `${status.id} ${status.description}`).join(", ")}`),
    "/judge0/about": info("{version: 1.13.1, homepage, source_code, maintainer}"),
    "/judge0/version": info("1.13.1 (text)"),
    "/judge0/config_info": info("Judge0's configuration keys with this server's limits"),
    "/judge0/system_info": info("The machine"),
    "/judge0/workers": info("The queue"),
    "/judge0/statistics": info("Submission counts (partly: docs/compat.md)"),
    "/judge0/isolate": info("What sandboxes Warren uses (text)"),
    "/judge0/license": info("License (text)"),
  };
}
