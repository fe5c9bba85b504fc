import { z } from "zod";
import type { Limits } from "../run/limits.js";
import { runResultSchema } from "../run/result-schema.js";
import { errorSchema, functionListSchema, functionSchema, invocationSchema, languageSchema, submittedSchema, versionSummarySchema } from "./answer-schemas.js";
import { deployRequestSchema } from "../run/function-wire.js";
import { imageInfoSchema } from "./images.js";
import { runRequestSchema } from "../run/request.js";
import { judge0Paths } from "./compat/judge0/openapi.js";
import type { ApiOptions } from "./context.js";
import { pistonOpenApiPaths } from "./compat/piston/openapi.js";

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({ "application/json": { schema: z.toJSONSchema(schema, { io, unrepresentable: "any" }) } });
const error = (description: string) => ({ description, content: json(errorSchema) });

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests; with the compatible APIs served (WARREN_COMPAT). */
export function openApiDocument(maxima: Limits, version: string, compat: ApiOptions["compat"] = []): Record<string, unknown> {
  const runResult = { description: "The RunResult", content: json(runResultSchema) };
  const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
  const nameParam = { name: "name", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" } };
  const common = { "401": error("unauthorized"), "429": error("rate_limited"), "503": error("unavailable") };
  return {
    openapi: "3.1.0",
    info: { title: "Warren", version, description: "Runs untrusted code in rootless sandboxes (API.md)." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "Needed when the server sets WARREN_API_KEYS" } } },
    security: [{ bearer: [] }, {}],
    paths: {
      "/v1/runs": {
        post: {
          summary: "Submit a run",
          parameters: [{ name: "wait", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] }, description: "Wait (bounded) for the result" }],
          requestBody: { required: true, content: json(runRequestSchema(maxima), "input") },
          responses: {
            "200": { description: "wait=true: the finished RunResult", content: json(runResultSchema) },
            "202": { description: "Queued: {id, status}; with wait=true past the wait, the current RunResult", content: json(z.union([submittedSchema, runResultSchema])) },
            "400": error("invalid_request"),
            "413": error("payload_too_large"),
            ...common,
          },
        },
      },
      "/v1/runs/{id}": {
        get: { summary: "A run's RunResult", parameters: [idParam], responses: { "200": runResult, "404": error("not_found"), ...common } },
        delete: { summary: "Cancel a queued or running run", parameters: [idParam], responses: { "200": runResult, "404": error("not_found"), ...common } },
      },
      "/v1/runs/{id}/events": {
        get: {
          summary: "A run's events as Server-Sent Events: status changes, stages, output as produced, verdicts, then the RunResult (docs/api-extensions.md, Live output)",
          parameters: [
            idParam,
            { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string", pattern: "^[0-9]{1,15}$" }, description: "Resume after this event" },
            { name: "lastEventId", in: "query", required: false, schema: { type: "string", pattern: "^[0-9]{1,15}$" }, description: "Last-Event-ID, for clients that cannot set the header" },
          ],
          responses: {
            "200": { description: "text/event-stream; ends after the `result` event", content: { "text/event-stream": { schema: { type: "string" } } } },
            "400": error("invalid_request"),
            "404": error("not_found"),
            ...common,
          },
        },
      },
      "/v1/sessions": {
        get: {
          summary:
            "A session (WebSocket upgrade): send the POST /v1/runs body, then stdin as binary messages, signals ({\"type\":\"signal\",\"signal\":\"SIGINT\"}) and {\"type\":\"end\"}; receive the run's events as they happen, then the RunResult (docs/api-extensions.md, Sessions)",
          parameters: [
            { name: "Sec-WebSocket-Protocol", in: "header", required: false, schema: { type: "string" }, description: "warren.session.v1, with warren.key.KEY beside it for clients that cannot send Authorization" },
          ],
          responses: {
            "101": { description: "Switching Protocols: the session" },
            "400": error("invalid_request"),
            "404": error("not_found"),
            ...common,
          },
        },
      },
      "/v1/functions": { get: { summary: "The functions (of this API key), with their latest version", responses: { "200": { description: "Functions", content: json(functionListSchema) }, ...common } } },
      "/v1/functions/{name}": {
        put: {
          summary: "Deploy a new immutable version: the trial (compile, import the handler) runs on a worker first (docs/api-extensions.md, Functions)",
          parameters: [nameParam],
          requestBody: { required: true, content: json(deployRequestSchema(maxima), "input") },
          responses: {
            "201": { description: "The new version", content: json(versionSummarySchema) },
            "202": { description: "The trial outlasted the wait: {id, status}", content: json(submittedSchema) },
            "400": error("invalid_request, or function_cannot_start with details {stage: compile|load, output}"),
            "409": error("version_exists: the label is taken"),
            "413": error("payload_too_large, or function_too_large (WARREN_FUNCTION_MAX_BYTES)"),
            "507": error("function_store_full (WARREN_FUNCTION_STORE_BYTES)"),
            ...common,
          },
        },
        get: { summary: "A function's versions (env names only)", parameters: [nameParam], responses: { "200": { description: "The function", content: json(functionSchema) }, "404": error("not_found"), ...common } },
        delete: { summary: "Delete a function and every version; its warm pools drain, running invocations finish", parameters: [nameParam], responses: { "200": { description: "{name, deleted: true}" }, "404": error("not_found"), ...common } },
      },
      "/v1/functions/{ref}/invoke": {
        post: {
          summary: "Invoke a function (NAME, or NAME@VERSION: a label or a number); the body is the event, any content type",
          parameters: [
            { name: "ref", in: "path", required: true, schema: { type: "string" }, description: "NAME or NAME@VERSION" },
            { name: "async", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] }, description: "Answer 202 at once (or send Prefer: respond-async)" },
            { name: "logs", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] }, description: "X-Warren-Logs: base64 of {stdout, stderr, truncated}, each its last 2 KiB" },
            { name: "callbackUrl", in: "query", required: false, schema: { type: "string" }, description: "POST the invocation's RunResult here when finished (or the X-Warren-Callback-Url header)" },
            { name: "Prefer", in: "header", required: false, schema: { type: "string" }, description: "respond-async" },
          ],
          requestBody: { required: false, content: { "*/*": { schema: { type: "string", format: "binary" } } } },
          responses: {
            "200": { description: "The handler's result with its content type; X-Warren-Invocation-Id, X-Warren-Function-Version, X-Warren-Duration-Ms, X-Warren-Handler-Ms, X-Warren-Cpu-Time-Ms, X-Warren-Memory-Kb, X-Warren-Cold", content: { "*/*": { schema: { type: "string", format: "binary" } } } },
            "202": { description: "Async (or past the wait): {id, status}; Location: /v1/invocations/{id}", content: json(submittedSchema) },
            "400": error("invalid_request"),
            "404": error("not_found: no such function or version"),
            "413": error("payload_too_large"),
            "500": error("Warren failed to run the invocation"),
            "502": error("function_error (details: type, message, stack) or function_memory_exceeded"),
            "504": error("function_timeout"),
            ...common,
          },
        },
      },
      "/v1/invocations/{id}": { get: { summary: "An invocation's state and outcome", parameters: [idParam], responses: { "200": { description: "The invocation", content: json(invocationSchema) }, "404": error("not_found"), ...common } } },
      "/v1/languages": { get: { summary: "The languages", responses: { "200": { description: "Languages", content: json(z.array(languageSchema)) }, ...common } } },
      "/v1/images": { get: { summary: "The installed images", responses: { "200": { description: "Images", content: json(z.array(imageInfoSchema)) }, ...common } } },
      ...(compat.includes("judge0") ? judge0Paths(maxima) : {}),
      "/healthz": { get: { summary: "Liveness", security: [], responses: { "200": { description: "The process lives" } } } },
      "/readyz": { get: { summary: "Readiness: the queue and a sandbox are usable", security: [], responses: { "200": { description: "Ready" }, "503": error("unavailable") } } },
      "/metrics": { get: { summary: "Prometheus metrics", security: [], responses: { "200": { description: "Prometheus text format" } } } },
      ...(compat.includes("piston") ? pistonOpenApiPaths(maxima, json) : {}),
    },
  };
}
