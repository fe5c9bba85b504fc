import { z } from "zod";
import { RUN_STATUSES, STAGE_STATUSES, VERDICTS } from "./result.js";

/** The RunResult's shape (API.md) as zod schemas: for /openapi.json, and for checking answers in tests. */
export const stageResultSchema = z
  .object({
    status: z.enum(STAGE_STATUSES).describe("How the stage ended"),
    exitCode: z.number().int().nullable().describe("null when killed by a signal or never started"),
    signal: z.string().nullable().describe('e.g. "SIGKILL"'),
    stdout: z.string(),
    stderr: z.string(),
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    cpuTimeMs: z.number(),
    wallTimeMs: z.number(),
    memoryKb: z.number().describe("Peak cgroup memory charge"),
    error: z
      .object({
        step: z.string(),
        errno: z.number().nullable(),
        message: z.string(),
        path: z.string().optional().describe("Step execve: the file execve failed on"),
        interpreter: z.string().optional().describe("Step execve: the interpreter that file asks for (#! or ELF loader)"),
        scratch: z.boolean().optional().describe("Step execve: the file is in the job's scratch"),
      })
      .optional()
      .describe("Extension: only for internal_error"),
    outputOmitted: z
      .object({
        reason: z.enum(["result_budget", "keep_output"]).describe("result_budget: the run's output budget (WARREN_RESULT_MAX_BYTES) was spent; keep_output: the request's keepOutput"),
        stdoutBytes: z.number().int().nonnegative().describe("Bytes of stdout Warren received and did not keep"),
        stderrBytes: z.number().int().nonnegative().describe("Bytes of stderr Warren received and did not keep"),
      })
      .optional()
      .describe("Extension: only when Warren dropped output of this stage; that stream's *Truncated flag is then true"),
  })
  .describe("One stage: compile, run, or one test's run");

export const testResultSchema = stageResultSchema.extend({
  name: z.string(),
  verdict: z.enum(VERDICTS),
  checkerMessage: z.string().optional().describe("Extension: a checker program's stderr, then its stdout (at most 4096 bytes)"),
  judgeFailure: z.string().optional().describe("Extension: why the checker program failed on this test (verdict internal_error: the judge's fault, not the contestant's)"),
  score: z.number().optional().describe("Extension, scored runs: the points this test earned"),
  maxScore: z.number().optional().describe("Extension, scored runs: the points this test could earn (0 in a group with points of its own)"),
  interaction: z
    .object({
      idleness: z.boolean().describe("The solution was ended by its wall-time limit with CPU time to spare: it waited (stopped reading, never flushed, or both sides blocked on a read); its status is time_limit_exceeded"),
      interactor: z
        .object({
          status: z.string(),
          exitCode: z.number().int().nullable(),
          signal: z.string().nullable(),
          cpuTimeMs: z.number(),
          wallTimeMs: z.number(),
          memoryKb: z.number(),
        })
        .describe("How the interactor's run ended"),
      transcript: z
        .object({
          toInteractor: z.string().describe("What the solution wrote (its stdout), as UTF-8, at most 64 KiB"),
          toSolution: z.string().describe("What the interactor wrote (its stdout), as UTF-8, at most 64 KiB"),
          toInteractorTruncated: z.boolean(),
          toSolutionTruncated: z.boolean(),
        })
        .optional()
        .describe("Only with interactor.transcript: the exchange, both ways"),
    })
    .optional()
    .describe("Extension, interactive problems: the interactor's run beside this test's"),
});

export const groupResultSchema = z
  .object({
    name: z.string(),
    score: z.number(),
    maxScore: z.number(),
    verdict: z.enum(VERDICTS).nullable().describe("accepted when all its tests were; else its first other verdict; null when none of its tests ran"),
    skipped: z.array(z.string()).describe("Names of its tests that did not run"),
  })
  .describe("Extension: one group (subtask) of a scored run");

export const runResultSchema = z
  .object({
    id: z.string(),
    status: z.enum(RUN_STATUSES).describe("failed = Warren's own fault"),
    language: z.string(),
    version: z.string(),
    verdict: z.enum(VERDICTS).nullable().describe("null until completed"),
    compile: stageResultSchema.nullable(),
    run: stageResultSchema.nullable(),
    tests: z.array(testResultSchema).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).optional().describe("Extension: Warren's failure, or the judge's (judge_compile_error, judge_failed), when status is failed"),
    judge: z.object({ compile: stageResultSchema.nullable() }).optional().describe("Extension: the checker program's compile stage, when the checker is a program"),
    score: z.number().optional().describe("Extension, scored runs (tests with points or groups): the total"),
    maxScore: z.number().optional(),
    groups: z.array(groupResultSchema).optional().describe("Extension, scored runs with groups"),
    function: z
      .looseObject({ kind: z.enum(["deploy", "invoke"]), name: z.string(), version: z.string().optional(), number: z.number().optional() })
      .optional()
      .describe("Extension, a function's deploy or invocation (docs/api-extensions.md, Functions): which function, and once final `invocation` (its outcome, the body base64), `deployed` or `refused`"),
  })
  .describe("A run's state and results");
