import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { MAX_LIMITS } from "../run/limits.js";
import { parseApiKeys } from "./auth.js";
import type { ApiOptions } from "./context.js";

const envSchema = z.object({
  WARREN_API_KEYS: z.string().optional().describe("Comma-separated API keys; unset: no auth"),
  WARREN_RATE_LIMIT: z.coerce.number().int().min(0, { message: "WARREN_RATE_LIMIT must be 0 (off) or more" }).default(600).describe("Requests per minute per API key"),
  WARREN_MAX_BODY_BYTES: z.coerce.number().int().min(1024, { message: "WARREN_MAX_BODY_BYTES must be at least 1024" }).default(32 * 1024 * 1024).describe("Largest request body"),
  WARREN_WAIT_MS: z.coerce.number().int().min(0, { message: "WARREN_WAIT_MS must be 0 or more" }).max(600_000, { message: "WARREN_WAIT_MS must be at most 600000" }).default(30_000).describe("Longest ?wait=true wait"),
});

/** The API's settings from the environment; throws InvalidRequestError naming the bad variable. */
export function apiOptions(env: NodeJS.ProcessEnv, ports: readonly number[], version: string): ApiOptions {
  const set = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in envSchema.shape && value !== undefined && value !== ""));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) throw new InvalidRequestError(`Bad API settings: ${parsed.error.issues.map((issue) => issue.message).join("; ")}.`, parsed.error.issues);
  return Object.freeze({
    apiKeys: parseApiKeys(parsed.data.WARREN_API_KEYS),
    rateLimitPerMinute: parsed.data.WARREN_RATE_LIMIT,
    bodyLimitBytes: parsed.data.WARREN_MAX_BODY_BYTES,
    waitMs: parsed.data.WARREN_WAIT_MS,
    maxima: MAX_LIMITS,
    ports,
    version,
  });
}
