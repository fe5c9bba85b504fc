import { runRequestSchema, type Checker, type RunRequest, type RunRequestInput } from "./request.js";
import { InvalidRequestError } from "../errors.js";
import { selectLanguage, type LanguageEntry } from "./select-language.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, MAX_LIMITS, type Limits } from "./limits.js";
import type { KeepOutput } from "./result.js";

export interface JobFileSpec {
  readonly path: string;
  readonly content: Buffer;
}

export interface TestSpec {
  readonly name: string;
  readonly stdin: Buffer;
  readonly expectedOutput: string | null;
}

/**
 * What the worker runs: a validated, resolved, frozen job. `L` is the
 * language as whoever resolved it knows it (the worker: an installed image's
 * Language, with its commands).
 */
export interface JobSpec<L extends LanguageEntry = LanguageEntry> {
  readonly language: L;
  readonly files: readonly JobFileSpec[];
  readonly stdin: Buffer;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly limits: Limits;
  readonly compileLimits: Limits;
  /** null: a plain run. */
  readonly tests: readonly TestSpec[] | null;
  readonly checker: Checker;
  /** Judge mode: stop after the first test that is not accepted (the rest are not run). */
  readonly stopOnFirstFailure: boolean;
  /** Which run stages keep their output in the result (compile output is always kept). */
  readonly keepOutput: KeepOutput;
  readonly callbackUrl: string | null;
}

export interface SpecContext<L extends LanguageEntry = LanguageEntry> {
  /** The languages of every installed image. */
  readonly languages: readonly L[];
  /** @defaultValue MAX_LIMITS */
  readonly maxima?: Limits;
}

/** Validates a request body (throws InvalidRequestError with the zod issues as details). */
export function parseRunRequest(body: unknown, maxima: Limits = MAX_LIMITS): RunRequest {
  const parsed = runRequestSchema(maxima).safeParse(body);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
    throw new InvalidRequestError(`Invalid run request: ${summary}`, parsed.error.issues);
  }
  return parsed.data;
}

/** The one conversion from the wire model to the internal job spec. */
export function toJobSpec<L extends LanguageEntry>(request: RunRequest, context: SpecContext<L>): JobSpec<L> {
  // The same language may be in several images: `image` and `version` pick one, else the newest.
  const language = selectLanguage(context.languages, { language: request.language, version: request.version, image: request.image });
  const tests =
    request.tests?.map((test, index) =>
      Object.freeze({
        name: test.name ?? String(index + 1),
        stdin: Buffer.from(test.stdin, "utf8"),
        expectedOutput: test.expectedOutput ?? null,
      }),
    ) ?? null;
  return Object.freeze({
    language,
    files: Object.freeze(request.files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, file.encoding) }))),
    stdin: Buffer.from(request.stdin, "utf8"),
    args: Object.freeze([...request.args]),
    env: Object.freeze({ ...request.env }),
    limits: mergeLimits(DEFAULT_RUN_LIMITS, request.limits),
    compileLimits: mergeLimits(DEFAULT_COMPILE_LIMITS, request.compileLimits),
    tests: tests === null ? null : Object.freeze(tests),
    checker: Object.freeze({ ...request.checker }),
    stopOnFirstFailure: request.stopOnFirstFailure,
    keepOutput: request.keepOutput,
    callbackUrl: request.callbackUrl ?? null,
  });
}

/** Validates and converts in one step (the CLI and the queue both start here). */
export function jobSpecFromBody<L extends LanguageEntry>(body: RunRequestInput | unknown, context: SpecContext<L>): JobSpec<L> {
  return toJobSpec(parseRunRequest(body, context.maxima), context);
}

function mergeLimits(defaults: Limits, given: Partial<Limits> | undefined): Limits {
  const merged: Record<string, number | boolean> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) merged[key] = value;
  return Object.freeze(merged as unknown as Limits);
}
