import { describe, expect, it } from "vitest";
import type { JobEvent } from "../../src/run/events.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";
import { job, sandbox } from "../helpers/sandbox.js";

/** Runs BODY and returns its result with every event it emitted, in order. */
async function withEvents(body: Parameters<typeof job>[3] & object, language: string, path: string, source: string) {
  const env = await sandbox();
  const events: JobEvent[] = [];
  const result = await runJob(jobSpecFromBody(job(language, path, source, body), { languages: env.image.languages }), env, undefined, { onEvent: (event) => events.push(event) });
  return { result, events };
}

const describeEvent = (event: JobEvent): string => {
  const where = event.ref.stage === "test" ? `test ${event.ref.index}` : event.ref.stage;
  return event.type === "output" ? `${where} ${event.stream}` : `${where} ${event.type}`;
};

describe("a job's events (RunJobOptions.onEvent)", () => {
  it("reports each stage starting, its output as produced, and its end, in order, for compile and every test", async () => {
    const source = `#include <stdio.h>
int main(void) { int n; if (scanf("%d", &n) != 1) return 3; printf("%d\\n", n * 2); fflush(stdout); fprintf(stderr, "err%d", n); return 0; }
`;
    const { result, events } = await withEvents({ tests: [{ stdin: "1", expectedOutput: "2\n" }, { name: "two", stdin: "2", expectedOutput: "5\n" }] }, "c", "main.c", source);
    expect(result.tests?.map((test) => test.verdict)).toEqual(["accepted", "wrong_answer"]);
    // Output chunks may be split or joined differently; collapse repeats of the same kind.
    const kinds = events.map(describeEvent).filter((kind, i, all) => kind !== all[i - 1]);
    expect(kinds).toEqual([
      "compile stage_started",
      "compile stage_finished",
      "test 0 stage_started",
      ...(kinds.indexOf("test 0 stdout") < kinds.indexOf("test 0 stderr") ? ["test 0 stdout", "test 0 stderr"] : ["test 0 stderr", "test 0 stdout"]),
      "test 0 stage_finished",
      "test 0 test_finished",
      "test 1 stage_started",
      ...(kinds.indexOf("test 1 stdout") < kinds.indexOf("test 1 stderr") ? ["test 1 stdout", "test 1 stderr"] : ["test 1 stderr", "test 1 stdout"]),
      "test 1 stage_finished",
      "test 1 test_finished",
    ]);
    const text = (index: number, stream: "stdout" | "stderr") =>
      Buffer.concat(events.flatMap((event) => (event.type === "output" && event.ref.stage === "test" && event.ref.index === index && event.stream === stream ? [event.data] : []))).toString();
    expect([text(0, "stdout"), text(0, "stderr"), text(1, "stdout"), text(1, "stderr")]).toEqual(["2\n", "err1", "4\n", "err2"]);
    const finished = events.filter((event) => event.type === "test_finished");
    expect(finished.map((event) => (event.type === "test_finished" ? [event.ref, event.result.verdict] : []))).toEqual([
      [{ stage: "test", index: 0, name: "1" }, "accepted"],
      [{ stage: "test", index: 1, name: "two" }, "wrong_answer"],
    ]);
  });

  it("reports a plain run's output before its end, and the stage result the run's result holds", async () => {
    const { result, events } = await withEvents({}, "python", "main.py", "import sys\nprint('hello', flush=True)\nsys.exit(4)");
    expect(events.map(describeEvent)).toEqual(["run stage_started", "run stdout", "run stage_finished"]);
    const end = events.at(-1);
    expect(end?.type === "stage_finished" ? end.result : undefined).toEqual(result.run);
    expect(result.run).toMatchObject({ status: "runtime_error", exitCode: 4 });
  });
});
