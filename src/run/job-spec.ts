import { runRequestSchema, type Checker, type InteractorRequest, type ProgramCheckerRequest, type RunRequest, type RunRequestInput } from "./request.js";
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
  /** Its points (0 when the request gave none); counted only in a scored run (JobSpec.scoring). */
  readonly points: number;
  /** The group it belongs to, if any. */
  readonly group: string | null;
}

/** A checker program (extension): the setter's, compiled once per job, run for each test (worker/judge-program.ts). */
export interface ProgramCheckerSpec<L extends LanguageEntry = LanguageEntry> {
  readonly kind: "program";
  readonly language: L;
  readonly files: readonly JobFileSpec[];
  /** Limits of each run of the checker. */
  readonly limits: Limits;
  readonly compileLimits: Limits;
}

/** An interactor (extension): the setter's, compiled once per job, run beside the solution for each test (worker/interact.ts). */
export interface InteractorSpec<L extends LanguageEntry = LanguageEntry> {
  readonly language: L;
  readonly files: readonly JobFileSpec[];
  /** Limits of each run of the interactor. */
  readonly limits: Limits;
  readonly compileLimits: Limits;
  /** Each test's exchange is returned (capped), both ways. */
  readonly transcript: boolean;
}

/** A group of tests (subtask), in the order of its first test. */
export interface GroupSpec {
  readonly name: string;
  /** Its own points (all or nothing); null: the sum of its tests' points. */
  readonly points: number | null;
  readonly dependsOn: readonly string[];
}

/** How a scored run adds up (docs/api-extensions.md, *Scored tests and subtasks*). */
export interface ScoringSpec {
  /** Every group tests name or the request declares, in the order of their first test. */
  readonly groups: readonly GroupSpec[];
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
  readonly checker: Checker | ProgramCheckerSpec<L>;
  /** Interactive problems: the interactor that each test's run talks to (tests only); null: none. */
  readonly interactor: InteractorSpec<L> | null;
  /** null: no test has points or a group and there are no groups, so the result carries no scores (as before scoring existed). */
  readonly scoring: ScoringSpec | null;
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

/**
 * The requests this process validated, with the maxima they were checked
 * against. In embedded mode the API parses a request and the worker gets the
 * very same object through the in-process queue: it is not parsed a second
 * time (~0.15 ms a run). A request that crossed Redis is a new object, and
 * is validated again by the worker that takes it.
 */
const validated = new WeakMap<object, Limits>();

/** Validates a request body (throws InvalidRequestError with the zod issues as details). */
export function parseRunRequest(body: unknown, maxima: Limits = MAX_LIMITS): RunRequest {
  const parsed = runRequestSchema(maxima).safeParse(body);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
    throw new InvalidRequestError(`Invalid run request: ${summary}`, parsed.error.issues);
  }
  validated.set(parsed.data, maxima);
  return parsed.data;
}

/** `body` as a RunRequest: as it is when this process validated it against the same maxima, else parsed. */
function validatedRequest(body: unknown, maxima: Limits = MAX_LIMITS): RunRequest {
  return typeof body === "object" && body !== null && validated.get(body) === maxima ? (body as RunRequest) : parseRunRequest(body, maxima);
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
        points: test.points ?? 0,
        group: test.group ?? null,
      }),
    ) ?? null;
  const checker = request.checker.kind === "program" ? programChecker(request.checker, context) : Object.freeze({ ...request.checker });
  return Object.freeze({
    language,
    files: Object.freeze(request.files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, file.encoding) }))),
    stdin: Buffer.from(request.stdin, "utf8"),
    args: Object.freeze([...request.args]),
    env: Object.freeze({ ...request.env }),
    limits: mergeLimits(DEFAULT_RUN_LIMITS, request.limits),
    compileLimits: mergeLimits(DEFAULT_COMPILE_LIMITS, request.compileLimits),
    tests: tests === null ? null : Object.freeze(tests),
    checker,
    interactor: request.interactor === undefined ? null : interactorOf(request.interactor, context),
    scoring: scoringOf(request),
    stopOnFirstFailure: request.stopOnFirstFailure,
    keepOutput: request.keepOutput,
    callbackUrl: request.callbackUrl ?? null,
  });
}

/** Validates and converts in one step (the CLI and the queue both start here). */
export function jobSpecFromBody<L extends LanguageEntry>(body: RunRequestInput | unknown, context: SpecContext<L>): JobSpec<L> {
  return toJobSpec(validatedRequest(body, context.maxima), context);
}

function programChecker<L extends LanguageEntry>(checker: ProgramCheckerRequest, context: SpecContext<L>): ProgramCheckerSpec<L> {
  return Object.freeze({
    kind: "program",
    language: selectLanguage(context.languages, { language: checker.language, version: checker.version, image: checker.image }),
    files: Object.freeze(checker.files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, file.encoding) }))),
    limits: mergeLimits(DEFAULT_RUN_LIMITS, checker.limits),
    compileLimits: mergeLimits(DEFAULT_COMPILE_LIMITS, checker.compileLimits),
  });
}

function interactorOf<L extends LanguageEntry>(interactor: InteractorRequest, context: SpecContext<L>): InteractorSpec<L> {
  return Object.freeze({
    language: selectLanguage(context.languages, { language: interactor.language, version: interactor.version, image: interactor.image }),
    files: Object.freeze(interactor.files.map((file) => Object.freeze({ path: file.path, content: Buffer.from(file.content, file.encoding) }))),
    limits: mergeLimits(DEFAULT_RUN_LIMITS, interactor.limits),
    compileLimits: mergeLimits(DEFAULT_COMPILE_LIMITS, interactor.compileLimits),
    transcript: interactor.transcript,
  });
}

/** The request's scoring, or null when it asks for none (no points, no groups): its result is then as before scoring existed. */
function scoringOf(request: RunRequest): ScoringSpec | null {
  const tests = request.tests ?? [];
  const declared = request.groups ?? [];
  if (declared.length === 0 && tests.every((test) => test.points === undefined && test.group === undefined)) return null;
  const names: string[] = [];
  for (const test of tests) if (test.group !== undefined && !names.includes(test.group)) names.push(test.group);
  const groups = names.map((name) => {
    const group = declared.find((candidate) => candidate.name === name);
    return Object.freeze({ name, points: group?.points ?? null, dependsOn: Object.freeze([...(group?.dependsOn ?? [])]) });
  });
  return Object.freeze({ groups: Object.freeze(groups) });
}

function mergeLimits(defaults: Limits, given: Partial<Limits> | undefined): Limits {
  const merged: Record<string, number | boolean> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) merged[key] = value;
  return Object.freeze(merged as unknown as Limits);
}
