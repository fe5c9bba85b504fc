import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { PENDING_MAX_BYTES } from "../../../config/variables.js";
import { enqueueWatched, type FinishWatch, type JobQueue } from "../../../queue/index.js";
import { parseRunRequest, toJobSpec } from "../../../run/job-spec.js";
import { parseResult } from "../../../run/result-json.js";
import { isFinal, type RunResult } from "../../../run/result.js";
import { admissionOf, admitJsonBody } from "../../admission.js";
import { bearerAuth, keyOwner } from "../../auth.js";
import { bodyLimit } from "../../body-limit.js";
import type { ApiDeps, AppEnv } from "../../context.js";
import { errorAnswer, PayloadTooLargeError } from "../../errors.js";
import { rateLimit } from "../../rate-limit.js";
import { pistonJob, pistonResult, type Interleaved } from "./execute.js";
import { pistonRuntimes, runtimeRow } from "./runtimes.js";

/** Piston answers every error as `{message}`. */
export function pistonError(error: unknown, deps: ApiDeps): { status: number; message: string; retryAfterSeconds?: number } {
  const answer = errorAnswer(error);
  if (answer === undefined) {
    deps.logger.error({ err: error }, "unexpected error in a Piston request");
    return { status: 500, message: "Warren failed to answer this request; the server log has the details." };
  }
  if (answer.status >= 500) deps.logger.warn({ code: answer.body.error.code, err: error }, answer.body.error.message);
  return { status: answer.status, message: answer.body.error.message, ...(answer.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: answer.retryAfterSeconds }) };
}

/**
 * The Piston v2 API (docs/compat.md, *Piston v2*), mounted at /piston so a
 * Piston client given the base URL http://HOST:PORT/piston works unchanged:
 * /api/v2/runtimes, /api/v2/execute, /api/v2/packages (read-only). Its
 * WebSocket, /api/v2/connect, is attached to the server (connect.ts). Behind
 * the same API keys and rate limit as /v1.
 */
export function pistonRoutes(deps: ApiDeps): Hono<AppEnv> {
  const { queue, options } = deps;
  const app = new Hono<AppEnv>();
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);
  app.onError((error, c) => {
    const { status, message, retryAfterSeconds } = pistonError(error, deps);
    if (retryAfterSeconds !== undefined) c.header("Retry-After", String(retryAfterSeconds));
    return c.json({ message }, status as 400);
  });
  app.use("*", bearerAuth(options.apiKeys), rateLimit(options.rateLimitPerMinute, queue.rateLimiter()));

  app.get("/api/v2/runtimes", (c) => c.json(pistonRuntimes(deps.languages()).map(runtimeRow), 200));

  // Read-only: Warren's languages come with its images (`warren image`), one package per runtime, all installed.
  app.get("/api/v2/packages", (c) =>
    c.json(
      pistonRuntimes(deps.languages()).map((runtime) => ({ language: runtime.runtime ?? runtime.language, language_version: runtime.version, installed: true })),
      200,
    ),
  );
  const readOnly = (c: Context) =>
    c.json({ message: "Packages are read-only on Warren: its languages come with its images (warren image build, import or pull; docs/images.md)." }, 405, { Allow: "GET" });
  app.post("/api/v2/packages", readOnly);
  app.delete("/api/v2/packages", readOnly);

  app.post(
    "/api/v2/execute",
    bodyLimit(options.bodyLimitBytes, () => {
      throw new PayloadTooLargeError(options.bodyLimitBytes);
    }),
    async (c) => {
      const id = randomUUID();
      // Held from before the body is read until the run is queued (or refused), as POST /v1/runs does.
      // Any content type: piston-client sends its JSON as text/plain.
      const { body, bytes: requestBytes, release } = await admitJsonBody(c, admission, options.bodyLimitBytes, "The request body is not valid JSON.");
      let job: ReturnType<typeof pistonJob>;
      let watch: FinishWatch | undefined;
      let known: RunResult | undefined;
      try {
        job = pistonJob(body, pistonRuntimes(deps.languages()), options.maxima, { stdinNewline: true });
        const request = parseRunRequest(job.request, options.maxima);
        const spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
        const owner = options.apiKeys.length > 0 ? { owner: keyOwner(c.get("apiKey")) } : {};
        // Watched from before it is queued: its end (and, when small, its result) comes with the announcement, no read after.
        ({ watch, known } = await enqueueWatched(queue, { id, language: spec.language.id, version: spec.language.version.detected, request, requestBytes, ...owner }, request.priority));
      } finally {
        release();
      }
      deps.logger.info({ runId: id, language: job.request.language, api: "piston" }, "run queued");
      // Piston has no run ids: a run whose client went away, or that outlasts the wait, is cancelled.
      const gone = new Promise<"gone">((resolve) => {
        const signal = c.req.raw.signal;
        if (signal.aborted) resolve("gone");
        signal.addEventListener("abort", () => resolve("gone"), { once: true });
      });
      const stored = await Promise.race([watch.wait(options.waitMs, known), gone]).finally(() => watch.close());
      if (stored === "gone" || stored === undefined || !isFinal(stored.status)) {
        await queue.cancel(id);
        if (stored === "gone") return new Response(null, { status: 499 }); // nobody reads it
        return c.json({ message: `The run did not finish within ${options.waitMs} ms (WARREN_WAIT_MS); it was cancelled.` }, 504);
      }
      const result = parseResult(stored.json);
      const answer = pistonResult(result, job, options.maxima, await interleavedOutput(queue, id));
      if (answer === undefined) return c.json({ message: result.error?.message ?? `The run ended ${result.status} before any stage ran.` }, 500);
      return c.json(answer, 200);
    },
  );

  app.all("*", (c) => c.json({ message: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404));
  return app;
}

/** Most bytes of one run's event log read back for its interleaved output (the log holds at most about the result's output and 1 MiB). */
const LOG_BATCH_BYTES = 1024 * 1024;

/**
 * Each stage's stdout and stderr in the order they were written, from the
 * run's event log (Piston's `output`). A stage whose log is incomplete (a
 * `dropped` event, or the log gone) is left out: its output is then stdout
 * followed by stderr.
 */
async function interleavedOutput(queue: JobQueue, id: string): Promise<Interleaved> {
  const chunks: Record<"compile" | "run", Buffer[]> = { compile: [], run: [] };
  let seen = 0;
  for (;;) {
    const batch = await queue.events.read(id, seen, LOG_BATCH_BYTES);
    if (batch.missing) return {};
    if (batch.events.length === 0) break;
    for (const event of batch.events) {
      seen = event.seq;
      if (event.type === "dropped") return {};
      if (event.type !== "output") continue;
      const output = JSON.parse(event.json) as { stage: string; data: string; encoding: BufferEncoding };
      if (output.stage === "compile" || output.stage === "run") chunks[output.stage].push(Buffer.from(output.data, output.encoding));
    }
  }
  return { compile: Buffer.concat(chunks.compile).toString("utf8"), run: Buffer.concat(chunks.run).toString("utf8") };
}
