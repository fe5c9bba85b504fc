import { z } from "zod";
import { jsonBuffer } from "./json-chunks.js";
import { RUN_STATUSES, type RunResult, type RunStatus } from "./result.js";

/**
 * A RunResult as its JSON bytes, written once when the result is made: what
 * the result stores keep (a Buffer is outside the JS heap), what the API
 * sends as it is, what a callback POSTs and `warren run --json` prints.
 */
export interface SerializedResult {
  readonly id: string;
  readonly status: RunStatus;
  readonly json: Buffer;
  /** QueuedJob.owner, kept with the result by the stores (not part of the JSON). */
  readonly owner?: string;
}

export function serializeResult(result: RunResult): SerializedResult {
  return { id: result.id, status: result.status, json: jsonBuffer(result) };
}

/** What is read back from a store may have crossed a process boundary (Redis): its header is checked, not trusted. */
const storedResultSchema = z.looseObject({
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  language: z.string(),
  version: z.string(),
});

/** The RunResult in stored JSON bytes (for callers that need the object; the API sends the bytes). */
export function parseResult(json: Buffer): RunResult {
  return storedResultSchema.parse(JSON.parse(json.toString("utf8"))) as unknown as RunResult;
}
