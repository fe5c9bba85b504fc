import { z } from "zod";
import type { Limits } from "../run/limits.js";
import { runResultSchema } from "../run/result-schema.js";
import { errorSchema, languageSchema, submittedSchema } from "./answer-schemas.js";
import { imageInfoSchema } from "./images.js";
import { runRequestSchema } from "../run/request.js";

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({ "application/json": { schema: z.toJSONSchema(schema, { io, unrepresentable: "any" }) } });
const error = (description: string) => ({ description, content: json(errorSchema) });

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(maxima: Limits, version: string): Record<string, unknown> {
  const runResult = { description: "The RunResult", content: json(runResultSchema) };
  const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
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
      "/v1/languages": { get: { summary: "The languages", responses: { "200": { description: "Languages", content: json(z.array(languageSchema)) }, ...common } } },
      "/v1/images": { get: { summary: "The installed images", responses: { "200": { description: "Images", content: json(z.array(imageInfoSchema)) }, ...common } } },
      "/healthz": { get: { summary: "Liveness", security: [], responses: { "200": { description: "The process lives" } } } },
      "/readyz": { get: { summary: "Readiness: the queue and a sandbox are usable", security: [], responses: { "200": { description: "Ready" }, "503": error("unavailable") } } },
      "/metrics": { get: { summary: "Prometheus metrics", security: [], responses: { "200": { description: "Prometheus text format" } } } },
    },
  };
}
