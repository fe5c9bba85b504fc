import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { InvalidRequestError } from "../errors.js";
import { callbackUrlOf, enqueueWatched, type FinishWatch } from "../queue/index.js";
import { parseRunRequest, toJobSpec } from "../run/job-spec.js";
import { notifyCallback } from "../callback/callback-delivery.js";
import type { SerializedResult } from "../run/result-json.js";
import { flushPhases, markPhase } from "../telemetry/phase-timings.js";
import { PENDING_MAX_BYTES } from "../config/variables.js";
import type { RunRequest } from "../run/request.js";
import { isFinal, type RunResult } from "../run/result.js";
import type { JobSpec } from "../run/job-spec.js";
import { admissionOf, admitJsonBody } from "./admission.js";
import { keyOwner } from "./auth.js";
import { runEvents } from "./run-events.js";
import { bodyLimit } from "./body-limit.js";
import { assertCallbackAllowed } from "./callback-guard.js";
import type { ApiDeps, AppEnv } from "./context.js";
import { NotFoundError, PayloadTooLargeError } from "./errors.js";

/** /v1/runs: submit, read, cancel. */
export function runsRoutes(deps: ApiDeps): Hono<AppEnv> {
  const { queue, logger, options } = deps;
  const app = new Hono<AppEnv>();
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);

  app.post(
    "/",
    bodyLimit(options.bodyLimitBytes, () => {
      throw new PayloadTooLargeError(options.bodyLimitBytes);
    }),
    async (c) => {
      const id = randomUUID();
      markPhase("api", id, "received");
      const wait = c.req.query("wait");
      if (wait !== undefined && wait !== "true" && wait !== "false") {
        throw new InvalidRequestError(`Expected the \`wait\` query parameter to be true or false, got ${JSON.stringify(wait)}.`, [{ path: ["wait"], message: "must be true or false" }]);
      }
      // Held from before the body is read until the run is queued (or refused): no more at once than the bound.
      const { body, bytes: requestBytes, release } = await admitJsonBody(c, admission, options.bodyLimitBytes, "The request body is not valid JSON (send Content-Type: application/json and a JSON object).", []);
      let queued: RunResult;
      let watch: FinishWatch | undefined;
      let known: RunResult | undefined;
      let spec: JobSpec;
      let request: RunRequest;
      try {
        request = parseRunRequest(body, options.maxima);
        // Resolves the language, version and image now, so a bad one is a 400 and not a failed run.
        spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
        if (request.callbackUrl !== undefined) assertCallbackAllowed(request.callbackUrl, c.req.url, options.ports, deps.callback?.policy);
        markPhase("api", id, "validated");
        // With API keys, the key that submitted the run is the one that may read its events.
        const owner = options.apiKeys.length > 0 ? { owner: keyOwner(c.get("apiKey")) } : {};
        const job = { id, language: spec.language.id, version: spec.language.version.detected, request, requestBytes, ...owner };
        // Watched from before it is queued, so that its end (and, when small, its result) comes with the announcement: no read after.
        if (wait === "true") ({ queued, watch, known } = await enqueueWatched(queue, job, request.priority));
        else queued = await queue.enqueue(job, request.priority);
      } finally {
        release();
      }
      markPhase("api", id, "queued");
      logger.info({ runId: id, language: spec.language.id, tests: spec.tests?.length ?? 0, priority: request.priority }, "run queued");
      if (watch === undefined) {
        flushPhases("api", id);
        return c.json({ id, status: "queued" as const }, 202);
      }
      let result: SerializedResult | undefined;
      try {
        result = await watch.wait(options.waitMs, known);
      } finally {
        watch.close();
      }
      markPhase("api", id, "answered");
      flushPhases("api", id);
      if (result === undefined) throw new NotFoundError(`Run ${id} expired before it finished (or was evicted: WARREN_RESULT_TTL_S, WARREN_RESULT_STORE_BYTES).`);
      return stored(c, result, isFinal(result.status) ? 200 : 202);
    },
  );

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const result = await queue.getSerialized(id);
    if (result === undefined) throw new NotFoundError(`No run ${JSON.stringify(id)}: it never existed or its result expired.`);
    return stored(c, result, 200);
  });

  app.get("/:id/events", runEvents(deps));

  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    // The cancel stores the run's final result, so no worker will report it: its webhook is sent from here.
    const result = await queue.cancel(id, (job, cancelled) => notifyCallback(callbackUrlOf(job), cancelled, logger, deps.callback));
    if (result === undefined) throw new NotFoundError(`No run ${JSON.stringify(id)}: it never existed or its result expired.`);
    logger.info({ runId: id, status: result.status }, "run cancel requested");
    return stored(c, result, 200);
  });

  return app;
}

/**
 * Answers with a result's JSON bytes as they were stored: a result is never
 * parsed and serialised again to be sent (it may be far larger than any
 * string the answer would need).
 */
function stored(c: Context<AppEnv>, result: SerializedResult, status: 200 | 202): Response {
  // A Buffer made by Buffer.concat/Buffer.from or read from Redis is never backed by a SharedArrayBuffer.
  return c.body(result.json as Uint8Array<ArrayBuffer>, status, { "content-type": "application/json" });
}
