import type { StageResult, TestResult } from "./result.js";

/**
 * What a running job reports as it goes (issue 12, live output): the worker
 * emits these through RunJobOptions.onEvent; the queue carries them to the
 * API's event stream (GET /v1/runs/:id/events) and `warren run` prints the
 * output ones live. Output chunks are what the launcher delivered, so they are
 * bounded by the stage's own output limit.
 */

/** Which stage an event is about: the compile stage, the plain run, or one test (its 0-based index and name). */
export type StageRef =
  | { readonly stage: "compile" }
  | { readonly stage: "run" }
  | { readonly stage: "test"; readonly index: number; readonly name: string };

export type JobEvent =
  | { readonly type: "stage_started"; readonly ref: StageRef }
  | { readonly type: "output"; readonly ref: StageRef; readonly stream: "stdout" | "stderr"; readonly data: Buffer }
  /** The stage's result as the run's result will hold it (its output may be dropped there: keepOutput). */
  | { readonly type: "stage_finished"; readonly ref: StageRef; readonly result: StageResult }
  | { readonly type: "test_finished"; readonly ref: StageRef & { readonly stage: "test" }; readonly result: TestResult };

export type JobEventSink = (event: JobEvent) => void;
