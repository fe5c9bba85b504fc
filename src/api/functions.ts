import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { InvalidRequestError } from "../errors.js";
import { PENDING_MAX_BYTES } from "../config/variables.js";
import { summaryOf, versionParts } from "../queue/function-store.js";
import { callbackUrlOf, enqueueWatched, waitForSerialized, type FinishWatch } from "../queue/index.js";
import { notifyCallback } from "../callback/callback-delivery.js";
import type { HttpBindings } from "@hono/node-server";
import { checkFunctionName, functionJobHeader, parseDeployRequest, toFunctionSource, toWireSource, VERSION_LABEL, type FunctionJob } from "../run/function-wire.js";
import { parseResult } from "../run/result-json.js";
import { PRIORITY_DEFAULT } from "../run/request.js";
import { isFinal, type RunResult } from "../run/result.js";
import { flushPhases, markPhase } from "../telemetry/phase-timings.js";
import { admissionOf } from "./admission.js";
import { keyOwner } from "./auth.js";
import { bodyLimit } from "./body-limit.js";
import { assertCallbackAllowed } from "./callback-guard.js";
import type { ApiDeps, AppEnv } from "./context.js";
import { NotFoundError, PayloadTooLargeError } from "./errors.js";
import { deployAnswer, invocationAnswer } from "./invocation-answer.js";

/** How long a deploy waits for its trial beyond the compile and load limits (queue and container start). */
const DEPLOY_SLACK_MS = 30_000;
/** How long a sync invocation waits beyond the function's own wall limit. */
const INVOKE_SLACK_MS = 30_000;

/**
 * /v1/functions (docs/api-extensions.md, *Functions*): deploy, list, read,
 * delete, invoke. A deploy and an invocation are queued jobs like runs (the
 * same admission, priorities, concurrency and callbacks); with API keys a
 * function belongs to the key that deployed it (each key has its own names:
 * another key's function is as unknown as one that never was).
 */
export function functionsRoutes(deps: ApiDeps): Hono<AppEnv> {
  const { queue, logger, options } = deps;
  const app = new Hono<AppEnv>();
  const admission = admissionOf(deps, options.pendingMaxBytes ?? PENDING_MAX_BYTES.default);
  const scopeOf = (c: Context<AppEnv>) => (options.apiKeys.length > 0 ? keyOwner(c.get("apiKey")) : "");
  const ownerOf = (c: Context<AppEnv>) => (options.apiKeys.length > 0 ? { owner: keyOwner(c.get("apiKey")) } : {});
  const tooLarge = bodyLimit(options.bodyLimitBytes, () => {
    throw new PayloadTooLargeError(options.bodyLimitBytes);
  });
  const unknown = (name: string, ref?: string) =>
    new NotFoundError(ref === undefined ? `No function ${JSON.stringify(name)}: it was never deployed (by this API key) or was deleted.` : `Function ${JSON.stringify(name)} has no version ${JSON.stringify(ref)}.`);

  app.put("/:name", tooLarge, async (c) => {
    const name = checkFunctionName(c.req.param("name"));
    const scope = scopeOf(c);
    const id = randomUUID();
    const declared = Number.parseInt(c.req.header("content-length") ?? "", 10);
    const release = admission.reserve(Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, options.bodyLimitBytes) : options.bodyLimitBytes);
    let waitMs: number;
    try {
      let body: unknown;
      let text: string;
      try {
        text = await c.req.text();
        body = JSON.parse(text);
      } catch {
        throw new InvalidRequestError("The request body is not valid JSON (send Content-Type: application/json and a JSON object).", []);
      }
      const request = parseDeployRequest(body, options.maxima);
      // The language, version and image are resolved now: a bad one is a 400 before any trial.
      const source = toFunctionSource(name, request, deps.languages());
      // The caps and the label are checked before the trial (and again at the commit, where they hold).
      await queue.functions.check(scope, name, request.version, versionParts(source, null, "").bytes);
      const fn: FunctionJob = { kind: "deploy", scope, name, source: toWireSource(source), ...(request.version === undefined ? {} : { label: request.version }) };
      const requestBytes = Number.isSafeInteger(declared) && declared >= 0 ? declared : Buffer.byteLength(text);
      await queue.enqueue({ id, language: source.language, version: source.languageVersion, fn, function: functionJobHeader(fn), requestBytes, ...ownerOf(c) }, PRIORITY_DEFAULT);
      waitMs = Math.max(options.waitMs, source.compileLimits.wallTimeMs + source.limits.wallTimeMs + DEPLOY_SLACK_MS);
    } finally {
      release();
    }
    logger.info({ runId: id, function: name }, "function deploy queued");
    const stored = await waitForSerialized(queue, id, waitMs);
    if (stored === undefined) throw new NotFoundError(`Deploy ${id} expired before it finished.`);
    if (!isFinal(stored.status)) return c.json({ id, status: stored.status }, 202);
    const answer = deployAnswer(parseResult(stored.json));
    if (answer.status === 201) c.header("location", `/v1/functions/${name}`);
    return c.json(answer.body, answer.status);
  });

  // Pages by name: `limit` (default 100, at most 1000) after the cursor `after` (the last name of the page before);
  // the body stays an array, and the next page is named in headers while there is one.
  app.get("/", async (c) => {
    const limit = pageLimit(c.req.query("limit"));
    const afterQuery = c.req.query("after");
    const after = afterQuery === undefined ? undefined : checkFunctionName(afterQuery);
    const listed = await queue.functions.list(scopeOf(c), { limit: limit + 1, ...(after === undefined ? {} : { after }) });
    const page = listed.slice(0, limit);
    if (listed.length > limit) {
      const next = page.at(-1)!.name;
      c.header("x-warren-next-cursor", next);
      c.header("link", `</v1/functions?limit=${limit}&after=${next}>; rel="next"`);
    }
    return c.json(page.map((fn) => ({ name: fn.name, versions: fn.versions, latest: summaryOf(fn.latest) })));
  });

  app.get("/:name", async (c) => {
    const name = checkFunctionName(c.req.param("name"));
    const versions = await queue.functions.versions(scopeOf(c), name);
    if (versions.length === 0) throw unknown(name);
    return c.json({ name, latest: versions.at(-1)!.version, versions: versions.map(summaryOf) });
  });

  app.delete("/:name", async (c) => {
    const name = checkFunctionName(c.req.param("name"));
    // Its pools drain on every worker (FunctionStore.onRemoved → FunctionRuntime.retire); invocations running finish.
    if (!(await queue.functions.remove(scopeOf(c), name))) throw unknown(name);
    logger.info({ function: name }, "function deleted");
    return c.json({ name, deleted: true });
  });

  app.post("/:ref/invoke", tooLarge, async (c) => {
    const id = randomUUID();
    markPhase("api", id, "received");
    const [name, ref] = splitRef(c.req.param("ref"));
    const async = flag(c.req.query("async"), "async") || /(^|[,;\s])respond-async([,;\s]|$)/i.test(c.req.header("prefer") ?? "");
    const logs = flag(c.req.query("logs"), "logs");
    const callbackUrl = c.req.query("callbackUrl") ?? c.req.header("x-warren-callback-url");
    if (callbackUrl !== undefined) {
      if (!URL.canParse(callbackUrl) || !/^https?:$/.test(new URL(callbackUrl).protocol)) {
        throw new InvalidRequestError(`callbackUrl must be an http(s) URL, got ${JSON.stringify(callbackUrl.slice(0, 200))}.`, [{ path: ["callbackUrl"], message: "must be an http(s) URL" }]);
      }
      assertCallbackAllowed(callbackUrl, c.req.url, options.ports, deps.callback?.policy);
    }
    const scope = scopeOf(c);
    const version = await queue.functions.resolve(scope, name, ref);
    if (version === undefined) throw unknown(name, (await queue.functions.resolve(scope, name)) === undefined ? undefined : ref);
    markPhase("api", id, "resolved");
    const declared = Number.parseInt(c.req.header("content-length") ?? "", 10);
    const release = admission.reserve(Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, options.bodyLimitBytes) : options.bodyLimitBytes);
    let queued: RunResult;
    let watch: FinishWatch | undefined;
    let known: RunResult | undefined;
    try {
      const event = Buffer.from(await c.req.arrayBuffer());
      const contentType = (c.req.header("content-type") ?? "application/octet-stream").slice(0, 256);
      // A handler's shim parses a JSON event: one that is not JSON is the caller's mistake, said here rather than as the function's error.
      if (version.mode === "handler" && isJson(contentType) && event.length > 0 && !parsesAsJson(event)) {
        throw new InvalidRequestError(`The event is declared ${contentType.split(";")[0]} but is not valid JSON: send JSON, or another content type for bytes or text.`, [{ path: ["body"], message: "is not valid JSON" }]);
      }
      const fn: FunctionJob = {
        kind: "invoke",
        scope,
        name,
        number: version.number,
        version: version.version,
        digest: version.digest,
        event: event.toString("base64"),
        contentType,
        logs,
        ...(callbackUrl === undefined ? {} : { callbackUrl }),
      };
      markPhase("api", id, "read");
      const job = { id, language: version.language, version: version.languageVersion, fn, function: functionJobHeader(fn), requestBytes: event.length, ...ownerOf(c) };
      // A sync invocation is watched from before it is queued: its end (and, when small, its result) comes with the announcement, no read after.
      if (!async) ({ queued, watch, known } = await enqueueWatched(queue, job, PRIORITY_DEFAULT));
      else queued = await queue.enqueue(job, PRIORITY_DEFAULT);
    } finally {
      release();
    }
    markPhase("api", id, "queued");
    c.header("x-warren-invocation-id", id);
    if (watch === undefined) {
      flushPhases("api", id);
      c.header("location", `/v1/invocations/${id}`);
      return c.json({ id, status: "queued" as const }, 202);
    }
    // A sync caller that goes away cancels its invocation: nobody is left to read the answer, and its container is freed.
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    const gone = () => {
      if (outgoing?.writableFinished !== true) void queue.cancel(id, (job, cancelled) => notifyCallback(callbackUrlOf(job), cancelled, logger, deps.callback)).catch(() => {});
    };
    outgoing?.once("close", gone);
    let stored;
    try {
      // known: as enqueue had it, which saves a read of the result before the wait (a round trip to Redis)
      stored = await watch.wait(Math.max(options.waitMs, version.limits.wallTimeMs + INVOKE_SLACK_MS), known);
    } finally {
      watch.close();
      outgoing?.off("close", gone);
    }
    markPhase("api", id, "finished");
    flushPhases("api", id);
    if (stored === undefined) throw new NotFoundError(`Invocation ${id} expired before it finished.`);
    if (!isFinal(stored.status)) {
      c.header("location", `/v1/invocations/${id}`);
      return c.json({ id, status: stored.status }, 202);
    }
    return invocationAnswer(c, parseResult(stored.json));
  });

  return app;
}

/** GET /v1/functions' page size. */
const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 1000;

function pageLimit(value: string | undefined): number {
  if (value === undefined) return LIST_LIMIT_DEFAULT;
  const limit = /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= LIST_LIMIT_MAX)) {
    throw new InvalidRequestError(`Expected \`limit\` to be an integer from 1 to ${LIST_LIMIT_MAX}, got ${JSON.stringify(value.slice(0, 40))}.`, [{ path: ["limit"], message: `must be an integer from 1 to ${LIST_LIMIT_MAX}` }]);
  }
  return limit;
}

/** `name` or `name@version` (a label, or a number). */
function splitRef(ref: string): [string, string | undefined] {
  const at = ref.indexOf("@");
  const name = checkFunctionName(at < 0 ? ref : ref.slice(0, at));
  if (at < 0) return [name, undefined];
  const version = ref.slice(at + 1);
  if (!/^[0-9]{1,15}$/.test(version) && !VERSION_LABEL.test(version)) {
    throw new InvalidRequestError(`Version ${JSON.stringify(version.slice(0, 80))} is not a version label or number.`, [{ path: ["version"], message: "must be a label or a number" }]);
  }
  return [name, version];
}

function flag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true" || value === "") return true;
  throw new InvalidRequestError(`Expected the \`${name}\` query parameter to be true or false, got ${JSON.stringify(value.slice(0, 40))}.`, [{ path: [name], message: "must be true or false" }]);
}


function isJson(contentType: string): boolean {
  const media = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return media === "application/json" || media.endsWith("+json");
}

function parsesAsJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}
