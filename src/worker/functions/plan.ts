import { InvalidRequestError } from "../../errors.js";
import type { FunctionFile, FunctionSource, FunctionVersion } from "../../run/functions.js";
import type { Limits } from "../../run/limits.js";
import type { ExecLimits } from "../../sandbox/container/exec-types.js";
import type { Image } from "../../sandbox/images/host-image.js";
import { expandCommand, findLanguage, type Language } from "../../sandbox/images/languages.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import { imageOf } from "../job-image.js";
import { execLimits } from "../stage-exec.js";
import { isHandlerLanguage, shimArgv, splitHandler } from "./shim-protocol.js";

/** How one function version's containers are made and what runs in them. */
export interface FunctionPlan {
  readonly image: Image;
  readonly language: Language;
  readonly mode: FunctionSource["mode"];
  /** The files written into the work dir: the source, or the build of a compiled language. */
  readonly files: readonly FunctionFile[];
  /** Files to make executable before the program starts (a build's: files are written 0644). */
  readonly executables: readonly string[];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly limits: Limits;
}

/** The language of SOURCE in its image; a handler mode the language has no shim for is a bad request. */
export function resolveLanguage(host: SandboxHost, source: FunctionSource): { image: Image; language: Language } {
  const image = imageOf(host, source.image);
  const language = findLanguage(image.languages, source.language);
  if (source.mode === "handler" && !isHandlerLanguage(language.id)) {
    throw new InvalidRequestError(`Language ${language.id} has no handler shim: use mode "process" (handlers are for ${["python", "javascript"].join(", ")}).`);
  }
  return { image, language };
}

/** The handler's module and function; a malformed handler is a bad request. */
export function handlerOf(source: FunctionSource): { module: string; fn: string } {
  const parts = source.handler === null ? undefined : splitHandler(source.handler);
  if (parts === undefined) throw new InvalidRequestError(`Expected \`handler\` as MODULE.FUNCTION (e.g. main.handler), got ${JSON.stringify(source.handler)}.`);
  return parts;
}

/**
 * The plan of a version's invocations: MODE "serve" for the handler shim
 * waiting for its event (or the process of mode "process"), "check" for a
 * trial load.
 */
export function planFunction(host: SandboxHost, fn: FunctionSource & Partial<Pick<FunctionVersion, "build" | "version" | "functionName">>, mode: "serve" | "check" = "serve"): FunctionPlan {
  const { image, language } = resolveLanguage(host, fn);
  const env = { ...image.env, ...fn.env };
  const sourcePaths = fn.files.map((file) => file.path);
  if (fn.mode === "handler") {
    if (!isHandlerLanguage(language.id)) throw new InvalidRequestError(`Language ${language.id} has no handler shim.`);
    const interpreter = language.run[0] ?? language.id;
    const argv = shimArgv(language.id, interpreter, mode, handlerOf(fn), fn.functionName ?? fn.name, fn.version ?? "", fn.limits.memoryMb);
    return { image, language, mode: fn.mode, files: fn.files, executables: [], argv, env, limits: fn.limits };
  }
  // Compiled languages run from their build; the run command's placeholders still name the source ({stem} of Main.java).
  const compiled = language.compile !== null;
  if (compiled && (fn.build === undefined || fn.build === null)) throw new InvalidRequestError(`Function ${fn.name} is in a compiled language and has no build.`);
  const files = compiled ? (fn.build ?? []) : fn.files;
  const argv = expandCommand(language.run, language, { files: sourcePaths, memoryMb: fn.limits.memoryMb });
  return { image, language, mode: fn.mode, files, executables: compiled ? files.map((file) => file.path) : [], argv, env, limits: fn.limits };
}

/** An invocation's limits in the launcher's terms, with WALL_MS as the launcher's own wall limit (the timeout is Warren's: docs/functions.md). */
export function invocationLimits(limits: Limits, wallMs: number): ExecLimits {
  return { ...execLimits(limits), wallTimeMs: Math.ceil(wallMs) };
}
