import os from "node:os";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { RESULT_MAX_BYTES } from "../run/limits.js";

const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: `${name} must be an integer` })
    .int({ message: `${name} must be an integer` })
    .min(min, { message: `${name} must be at least ${min}` })
    .max(max, { message: `${name} must be at most ${max}` })
    .default(fallback);

const MIB = 1024 * 1024;
/** WARREN_PENDING_MAX_BYTES: the default, and the least (one request of the largest body always fits). */
export const PENDING_MAX_BYTES = Object.freeze({ default: 256 * MIB, min: MIB });
/** WARREN_RESULT_STORE_BYTES: the default, and the least (a store smaller than one result's worth keeps little but the newest). */
export const RESULT_STORE_BYTES = Object.freeze({ default: 256 * MIB, min: MIB });

/** The queue's settings, from the environment (documented in docs/service.md). */
export const queueConfigSchema = z.object({
  REDIS_URL: z.string().url({ message: "REDIS_URL must be a URL such as redis://127.0.0.1:6379" }).optional().describe("Distributed mode when set"),
  WARREN_CONCURRENCY: integer("WARREN_CONCURRENCY", os.availableParallelism(), 1).describe("Sandboxes per worker; default the number of cores"),
  WARREN_QUEUE: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "WARREN_QUEUE must be 1-64 letters, digits, _ or -" }).default("warren").describe("Queue name (and Redis key prefix)"),
  WARREN_RESULT_TTL_S: integer("WARREN_RESULT_TTL_S", 86_400, 1).describe("How long results are kept, in seconds"),
  WARREN_RESULT_MAX: integer("WARREN_RESULT_MAX", 10_000, 1).describe("Embedded mode: most results kept in memory"),
  WARREN_RESULT_MAX_BYTES: integer("WARREN_RESULT_MAX_BYTES", RESULT_MAX_BYTES.default, 0, RESULT_MAX_BYTES.max).describe(
    "Output bytes (stdout and stderr) one RunResult keeps across its compile stage, run and tests together; the rest is counted in outputOmitted",
  ),
  WARREN_RESULT_STORE_BYTES: integer("WARREN_RESULT_STORE_BYTES", RESULT_STORE_BYTES.default, RESULT_STORE_BYTES.min).describe(
    "Bytes of finished results (their JSON) kept, in memory (embedded) or in Redis; the oldest go first",
  ),
  WARREN_PENDING_MAX_BYTES: integer("WARREN_PENDING_MAX_BYTES", PENDING_MAX_BYTES.default, PENDING_MAX_BYTES.min).describe(
    "Bytes of run requests Warren holds before a worker takes them: bodies being read by the API, and (embedded) runs waiting in the queue; past it, 503 with Retry-After",
  ),
  WARREN_JOB_ATTEMPTS: integer("WARREN_JOB_ATTEMPTS", 3, 1).describe("Tries of a job that Warren itself failed (never for a user's verdict)"),
  WARREN_RETRY_BACKOFF_MS: integer("WARREN_RETRY_BACKOFF_MS", 1_000, 0).describe("First retry delay; doubles on each retry"),
  WARREN_LOCK_DURATION_MS: integer("WARREN_LOCK_DURATION_MS", 30_000, 1_000).describe("BullMQ job lock: a dead worker's job is taken over after about this long"),
  WARREN_STALLED_INTERVAL_MS: integer("WARREN_STALLED_INTERVAL_MS", 30_000, 1_000).describe("How often workers look for stalled jobs"),
  WARREN_MAX_STALLED: integer("WARREN_MAX_STALLED", 2, 1).describe("Times a job may stall before it fails"),
});

export interface QueueConfig {
  readonly redisUrl: string | undefined;
  readonly concurrency: number;
  readonly name: string;
  readonly resultTtlSeconds: number;
  readonly resultMax: number;
  /** WARREN_RESULT_MAX_BYTES: the output budget of one RunResult. */
  readonly resultMaxBytes: number;
  /** WARREN_PENDING_MAX_BYTES: request bytes held before a worker takes them (docs/service.md). */
  readonly pendingMaxBytes: number;
  /** WARREN_RESULT_STORE_BYTES: the JSON bytes of the finished results kept. */
  readonly resultStoreBytes: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalled: number;
}

/** Reads the queue settings; throws InvalidRequestError naming the bad variable. */
export function queueConfig(env: NodeJS.ProcessEnv = process.env): QueueConfig {
  const set = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in queueConfigSchema.shape && value !== undefined && value !== ""));
  const parsed = queueConfigSchema.safeParse(set);
  if (!parsed.success) throw new InvalidRequestError(`Bad queue settings: ${parsed.error.issues.map((issue) => issue.message).join("; ")}.`, parsed.error.issues);
  const e = parsed.data;
  return Object.freeze({
    redisUrl: e.REDIS_URL,
    concurrency: e.WARREN_CONCURRENCY,
    name: e.WARREN_QUEUE,
    resultTtlSeconds: e.WARREN_RESULT_TTL_S,
    resultMax: e.WARREN_RESULT_MAX,
    resultMaxBytes: e.WARREN_RESULT_MAX_BYTES,
    resultStoreBytes: e.WARREN_RESULT_STORE_BYTES,
    pendingMaxBytes: e.WARREN_PENDING_MAX_BYTES,
    attempts: e.WARREN_JOB_ATTEMPTS,
    backoffMs: e.WARREN_RETRY_BACKOFF_MS,
    lockDurationMs: e.WARREN_LOCK_DURATION_MS,
    stalledIntervalMs: e.WARREN_STALLED_INTERVAL_MS,
    maxStalled: e.WARREN_MAX_STALLED,
  });
}

/** WARREN_RESULT_MAX_BYTES alone (`warren run`, which has no queue); throws InvalidRequestError naming it when bad. */
export function resultMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.WARREN_RESULT_MAX_BYTES;
  const parsed = queueConfigSchema.shape.WARREN_RESULT_MAX_BYTES.safeParse(text === "" ? undefined : text);
  if (!parsed.success) throw new InvalidRequestError(`Bad setting: ${parsed.error.issues.map((issue) => issue.message).join("; ")}.`, parsed.error.issues);
  return parsed.data;
}
