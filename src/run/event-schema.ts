import { z } from "zod";
import { RUN_STATUSES } from "./result.js";
import { runResultSchema, stageResultSchema, testResultSchema } from "./result-schema.js";

/*
 * The data of each event of GET /v1/runs/:id/events (docs/api-extensions.md,
 * *Live output*) as zod schemas: what event-wire.ts and the event log write,
 * for checking the stream in tests and for the client's types (src/client/).
 */

/** The stage an event is about: `{stage}`, or `{stage: "test", index, name}`. */
const stageRef = {
  stage: z.enum(["compile", "run", "test"]),
  index: z.number().int().nonnegative().optional().describe("stage test: the test's 0-based index"),
  name: z.string().optional().describe("stage test: the test's name"),
};

export const runEventDataSchemas = {
  status: z.object({ status: z.enum(RUN_STATUSES) }).describe("queued, running (again on a retry), then the final status"),
  stage_started: z.object(stageRef),
  output: z
    .object({
      ...stageRef,
      stream: z.enum(["stdout", "stderr"]),
      encoding: z.enum(["utf8", "base64"]).describe("utf8: `data` is the text; base64: the bytes were not valid UTF-8"),
      data: z.string(),
    })
    .describe("Bytes the program wrote, in the launcher's chunks"),
  stage_finished: z.object({ ...stageRef, result: stageResultSchema.omit({ stdout: true, stderr: true }) }).describe("The stage's result without its output"),
  test_finished: z.object({ ...stageRef, result: testResultSchema.omit({ stdout: true, stderr: true }) }).describe("The test's result (its verdict) without its output"),
  dropped: z
    .object({ events: z.number().int().nonnegative(), outputBytes: z.number().int().nonnegative(), limitBytes: z.number().int().nonnegative() })
    .describe("The run's event log is full: events past it are not sent"),
  cut: z.object({ code: z.string(), message: z.string() }).describe("The server ended the stream early; reconnect with Last-Event-ID"),
  result: runResultSchema.describe("The final RunResult: always the last event"),
} as const;

export type RunEventType = keyof typeof runEventDataSchemas;
export type RunEventData<T extends RunEventType> = z.infer<(typeof runEventDataSchemas)[T]>;
