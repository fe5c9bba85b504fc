import { randomUUID } from "node:crypto";
import { arch, cpus, totalmem } from "node:os";
import { Hono, type Context } from "hono";
import { InvalidRequestError } from "../../../errors.js";
import { waitForResult, type RecordStore } from "../../../queue/index.js";
import { parseRunRequest, toJobSpec } from "../../../run/job-spec.js";
import { isFinal, type RunResult } from "../../../run/result.js";
import { PENDING_MAX_BYTES } from "../../../config/variables.js";
import { admissionOf } from "../../admission.js";
import { keyOwner } from "../../auth.js";
import { bodyLimit } from "../../body-limit.js";
import { assertCallbackAllowed } from "../../callback-guard.js";
import type { ApiDeps, AppEnv } from "../../context.js";
import { PayloadTooLargeError } from "../../errors.js";
import { rateLimit } from "../../rate-limit.js";
import { REQUEST_BOUNDS } from "../../../run/request.js";
import { ArchiveError, readArchive, type ArchiveFile } from "./additional-files.js";
import { judge0Auth } from "./auth.js";
import { Judge0Callbacks } from "./callbacks.js";
import { configInfo, JUDGE0_VERSION, judge0Config, MAX_BATCH, PER_PAGE } from "./config.js";
import { judge0Languages } from "./languages.js";
import { STATUSES } from "./statuses.js";
import { parseFields, parseSubmission, renderSubmission, runRequestOf, type Field, type FieldErrors, type SubmissionRecord } from "./submission.js";

/**
 * The namespace of Judge0's submission records in the queue's record store:
 * one per API key when the server has keys (a key lists and reads only its
 * own submissions: Warren's keys are tenants, where Judge0's one token is
 * shared), one for all when it has none.
 */
export function judge0Records(owner: string | undefined): string {
  return owner === undefined ? "judge0" : `judge0:${owner}`;
}

/**
 * Judge0 CE v1.13.1's API (docs/compat.md), mounted at /judge0: a
 * submission is a Warren run (its token the run's id), queued, run and
 * stored as any other, with Judge0's own fields kept beside it in the
 * queue's record store; Judge0's error bodies (`{error}`, 422 `{field:
 * [messages]}`) on its own routes.
 */
export function judge0Routes(deps: ApiDeps): Hono<AppEnv> {
  const { queue, options, logger } = deps;
  const app = new Hono<AppEnv>();
  const callbacks = new Judge0Callbacks(queue, logger, deps.callback);
  const ownerOf = (c: Context<AppEnv>) => (options.apiKeys.length > 0 ? keyOwner(c.get("apiKey")) : undefined);
  const recordsOf = (c: Context<AppEnv>) => queue.records(judge0Records(ownerOf(c)));
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);
  const config = judge0Config(options.maxima);
  const failure = (c: Context<AppEnv>, message: string, status: 400 | 404 | 503 = 400) => c.json({ error: message }, status);

  app.use("*", judge0Auth(options.apiKeys), rateLimit(options.rateLimitPerMinute, queue.rateLimiter()));

  const base64Of = (c: Context<AppEnv>) => c.req.query("base64_encoded") === "true";

  /** The record and the current result of TOKEN; the record gets its finished_at the first time its run is seen final. */
  const load = async (records: RecordStore, token: string): Promise<{ record: SubmissionRecord; result: RunResult | undefined } | undefined> => {
    const json = await records.get(token);
    if (json === undefined) return undefined;
    let record = JSON.parse(json) as SubmissionRecord;
    const result = await queue.get(token);
    if (result !== undefined && isFinal(result.status) && record.finished_at === null) {
      record = { ...record, finished_at: new Date().toISOString() };
      // Only over a record still there: a DELETE meanwhile must not be undone.
      await records.update(token, JSON.stringify(record));
    }
    return { record, result };
  };

  /** Validates and queues one submission: its token and record, or Judge0's field errors. */
  const submit = async (c: Context<AppEnv>, body: unknown, base64: boolean, requestBytes: number): Promise<{ record: SubmissionRecord; queued: RunResult } | { errors: FieldErrors }> => {
    const parsed = parseSubmission(body, { base64, installed: deps.languages(), config });
    if ("errors" in parsed) return parsed;
    if (parsed.record.callback_url !== null) {
      try {
        assertCallbackAllowed(parsed.record.callback_url, c.req.url, options.ports, deps.callback?.policy);
      } catch (error) {
        if (error instanceof InvalidRequestError) return { errors: { callback_url: [error.message] } };
        throw error;
      }
    }
    const runs = parsed.record.number_of_runs;
    const stdinBytes = parsed.record.stdin === null ? 0 : Buffer.from(parsed.record.stdin, "base64").length;
    // Each run is a test carrying the stdin: the job holds it number_of_runs times, bounded as one request body is.
    if (stdinBytes * runs > options.bodyLimitBytes) {
      return { errors: { number_of_runs: [`is too many for this stdin: ${runs} copies of ${stdinBytes} bytes are over this server's request limit of ${options.bodyLimitBytes} bytes (WARREN_MAX_BODY_BYTES)`] } };
    }
    const token = randomUUID();
    let archive: ArchiveFile[] = [];
    if (parsed.archive !== null) {
      try {
        archive = await readArchive(parsed.archive, REQUEST_BOUNDS.files - 1);
      } catch (error) {
        if (error instanceof ArchiveError) return { errors: { additional_files: [error.message] } };
        throw error;
      }
    }
    let request;
    let spec;
    try {
      request = parseRunRequest(runRequestOf(parsed, token, archive, options.maxima), options.maxima);
      spec = toJobSpec(request, { languages: deps.languages(), maxima: options.maxima });
    } catch (error) {
      // What Judge0 would take but this server cannot run (a limit past its maxima, an argument past the kernel's): said as Judge0 says a bad field.
      if (error instanceof InvalidRequestError) return { errors: { submission: [error.message] } };
      throw error;
    }
    const records = recordsOf(c);
    const record: SubmissionRecord = { ...parsed.record, token, created_at: new Date().toISOString(), finished_at: null };
    // The record first: a worker may finish the run before enqueue returns.
    await records.put(token, JSON.stringify(record));
    if (record.callback_url !== null) await callbacks.ready();
    const owner = ownerOf(c);
    // What the queued job holds: the body, the stdin's other copies, and the unpacked archive (as base64) it was not.
    const jobBytes = requestBytes + stdinBytes * (runs - 1) + Math.ceil((archive.reduce((sum, file) => sum + file.content.length, 0) * 4) / 3);
    let queued: RunResult;
    try {
      queued = await queue.enqueue({ id: token, language: spec.language.id, version: spec.language.version.detected, request, requestBytes: jobBytes, ...(owner === undefined ? {} : { owner }) }, request.priority);
    } catch (error) {
      // Refused (the queue is full, Redis is down): no submission is left behind that would never leave In Queue.
      await records.remove(token).catch(() => false);
      throw error;
    }
    if (record.callback_url !== null) await callbacks.watch(token, record.callback_url, records);
    logger.info({ runId: token, language: spec.language.id, judge0LanguageId: record.language_id }, "judge0 submission queued");
    return { record, queued };
  };

  /** Reads a JSON body within the admission bound. */
  const readBody = async (c: Context<AppEnv>, within: (body: unknown, bytes: number) => Promise<Response>): Promise<Response> => {
    const declared = Number.parseInt(c.req.header("content-length") ?? "", 10);
    const release = admission.reserve(Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, options.bodyLimitBytes) : options.bodyLimitBytes);
    try {
      const text = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return failure(c, "the request body is not valid JSON (send Content-Type: application/json and a JSON object)");
      }
      return await within(body, Buffer.byteLength(text));
    } finally {
      release();
    }
  };

  const limited = bodyLimit(options.bodyLimitBytes, () => {
    throw new PayloadTooLargeError(options.bodyLimitBytes);
  });

  const fieldsOf = (c: Context<AppEnv>): readonly Field[] | Response => {
    const fields = parseFields(c.req.query("fields"));
    return "invalid" in fields ? failure(c, `invalid fields: [${fields.invalid.join(", ")}]`) : fields.fields;
  };

  app.post("/submissions/batch", limited, async (c) => {
    const base64 = base64Of(c);
    return readBody(c, async (body, bytes) => {
      const list = (body as { submissions?: unknown } | null)?.submissions;
      const count = Array.isArray(list) ? list.length : 0;
      if (count > MAX_BATCH) return failure(c, `number of submissions in a batch should be less than or equal to ${MAX_BATCH}`);
      if (count === 0) return failure(c, "there should be at least one submission in a batch");
      const answers: unknown[] = [];
      let anyValid = false;
      for (const item of list as unknown[]) {
        const outcome = await submit(c, item, base64, Math.ceil(bytes / count));
        if ("errors" in outcome) answers.push(outcome.errors);
        else {
          answers.push({ token: outcome.record.token });
          anyValid = true;
        }
      }
      return c.json(answers, anyValid ? 201 : 422);
    });
  });

  app.get("/submissions/batch", async (c) => {
    const fields = fieldsOf(c);
    if (fields instanceof Response) return fields;
    const tokens = (c.req.header("tokens") ?? c.req.query("tokens") ?? "").trim().split(",").filter((token) => token !== "");
    if (tokens.length > MAX_BATCH) return failure(c, `number of submissions in a batch should be less than or equal to ${MAX_BATCH}`);
    if (tokens.length === 0) return failure(c, "there should be at least one submission in a batch");
    const base64 = base64Of(c);
    const records = recordsOf(c);
    const submissions = await Promise.all(
      tokens.map(async (token) => {
        const found = await load(records, token);
        return found === undefined ? null : renderSubmission(found.record, found.result, { base64, fields });
      }),
    );
    return c.json({ submissions }, 200);
  });

  app.post("/submissions", limited, async (c) => {
    const fields = fieldsOf(c);
    if (fields instanceof Response) return fields;
    const base64 = base64Of(c);
    const wait = c.req.query("wait") === "true";
    return readBody(c, async (body, bytes) => {
      const outcome = await submit(c, body, base64, bytes);
      if ("errors" in outcome) return c.json(outcome.errors, 422);
      const { record, queued } = outcome;
      if (!wait) return c.json({ token: record.token }, 201);
      // Judge0 holds a wait=true request until the run is done; Warren waits at most WARREN_WAIT_MS, then answers what it has (status In Queue or Processing).
      await waitForResult(queue, record.token, options.waitMs, queued);
      const found = await load(recordsOf(c), record.token);
      if (found === undefined) return failure(c, `submission ${record.token} expired before it finished`, 404);
      return c.json(renderSubmission(found.record, found.result, { base64, fields }), 201);
    });
  });

  app.get("/submissions", async (c) => {
    const fields = fieldsOf(c);
    if (fields instanceof Response) return fields;
    const page = c.req.query("page") === undefined ? 1 : Number.parseInt(c.req.query("page")!, 10) || 0;
    const asked = c.req.query("per_page") === undefined ? PER_PAGE.default : Number.parseInt(c.req.query("per_page")!, 10) || 0;
    if (page <= 0) return failure(c, `invalid page: ${page}`);
    if (asked < 0) return failure(c, `invalid per_page: ${asked}`);
    // Judge0 has no bound; each submission here may carry megabytes of output, so a page is at most PER_PAGE.max.
    const perPage = Math.min(asked, PER_PAGE.max);
    const records = recordsOf(c);
    const { ids, total } = await records.page((page - 1) * perPage, perPage);
    const base64 = base64Of(c);
    const submissions = (await Promise.all(ids.map((token) => load(records, token)))).flatMap((found) => (found === undefined ? [] : [renderSubmission(found.record, found.result, { base64, fields })]));
    const pages = perPage === 0 ? 0 : Math.ceil(total / perPage);
    return c.json(
      {
        submissions,
        meta: { current_page: page, next_page: page < pages ? page + 1 : null, prev_page: page > 1 ? page - 1 : null, total_pages: pages, total_count: total },
      },
      200,
    );
  });

  app.get("/submissions/:token", async (c) => {
    const fields = fieldsOf(c);
    if (fields instanceof Response) return fields;
    const found = await load(recordsOf(c), c.req.param("token"));
    if (found === undefined) return failure(c, "Not Found", 404);
    return c.json(renderSubmission(found.record, found.result, { base64: base64Of(c), fields }), 200);
  });

  app.delete("/submissions/:token", async (c) => {
    const fields = fieldsOf(c);
    if (fields instanceof Response) return fields;
    const token = c.req.param("token");
    const records = recordsOf(c);
    const found = await load(records, token);
    if (found === undefined) return failure(c, "Not Found", 404);
    const status = found.result?.status ?? "queued";
    if (!isFinal(status)) {
      const [id, name] = status === "queued" ? [1, "In Queue"] : [2, "Processing"];
      return failure(c, `submission cannot be deleted because its status is ${id} (${name})`);
    }
    await records.remove(token);
    // As Judge0: base64 always, so that what was deleted can be read whatever its bytes.
    return c.json(renderSubmission(found.record, found.result, { base64: true, fields }), 200);
  });

  const languageRows = () => judge0Languages(deps.languages());
  app.get("/languages", (c) => c.json(languageRows().map(({ id, name }) => ({ id, name })), 200));
  app.get("/languages/all", (c) => c.json(languageRows().map(({ id, name }) => ({ id, name, is_archived: false })), 200));
  app.get("/languages/:id", (c) => {
    const row = languageRows().find((candidate) => String(candidate.id) === c.req.param("id"));
    if (row === undefined) return failure(c, "Not Found", 404);
    const { language } = row;
    return c.json(
      {
        id: row.id,
        name: row.name,
        is_archived: false,
        source_file: language.sourceFile,
        compile_cmd: language.compile === null ? null : language.compile.join(" "),
        run_cmd: language.run.join(" "),
      },
      200,
    );
  });

  app.get("/statuses", (c) => c.json(STATUSES, 200));
  app.get("/about", (c) =>
    c.json({ version: JUDGE0_VERSION, homepage: "https://judge0.com", source_code: "https://github.com/judge0/judge0", maintainer: `Warren ${options.version} (a Judge0 CE compatible API; docs/compat.md)` }, 200),
  );
  app.get("/version", (c) => c.text(JUDGE0_VERSION, 200));
  app.get("/isolate", (c) => c.text(`Warren ${options.version}: no isolate; rootless Linux namespaces, cgroups and seccomp (docs/compat.md)\n`, 200));
  app.get("/license", (c) => c.text("Warren is licensed under the Apache License, Version 2.0. This API reproduces Judge0 CE's interface; it contains no Judge0 code.\n", 200));
  app.get("/config_info", (c) => c.json(configInfo(options.maxima, options.waitMs), 200));
  app.get("/system_info", (c) => {
    const cores = cpus();
    return c.json({ Architecture: arch() === "x64" ? "x86_64" : arch(), "CPU(s)": String(cores.length), "Model name": cores[0]?.model ?? "unknown", Mem: `${Math.round(totalmem() / 2 ** 30)}Gi` }, 200);
  });
  app.get("/workers", async (c) => {
    const size = await queue.depth();
    return c.json([{ queue: JUDGE0_VERSION, size, available: null, idle: null, working: null, paused: null, failed: null }], 200);
  });
  app.get("/statistics", async (c) => {
    const { total } = await recordsOf(c).page(0, 0);
    const now = new Date();
    return c.json({ created_at: now.toISOString(), cached_until: now.toISOString(), submissions: { total, today: null, last_30_days: {} }, languages: [], statuses: [], database: { size_pretty: null, size_in_bytes: null } }, 200);
  });

  return app;
}
