import { z } from "zod";

/** The API's answers besides the RunResult (run/result-schema.ts): for /openapi.json and for checking answers in tests. */
export const submittedSchema = z.object({ id: z.string(), status: z.literal("queued") }).describe("A queued run");

export const languageSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  compiled: z.boolean(),
  image: z.string(),
});

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(["invalid_request", "unauthorized", "not_found", "payload_too_large", "rate_limited", "unavailable", "internal_error"]),
      message: z.string().describe("What went wrong, for a person"),
      details: z.unknown().describe("zod issues for invalid_request; else extra facts or null"),
    }),
  })
  .describe("Every error answer");
