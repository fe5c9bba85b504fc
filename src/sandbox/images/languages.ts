import path from "node:path";
import { UnknownLanguageError } from "../../errors.js";
import { javacFlags, jvmFlags } from "./jvm-flags.js";
import type { LanguageRecipe } from "./schema.js";

/** A language of an installed image, with its detected version. */
export interface Language extends LanguageRecipe {
  readonly version: LanguageRecipe["version"] & { readonly detected: string };
  /** The image that provides it. */
  readonly image: string;
}

/** Finds a language by id or alias (case-insensitive). Throws UnknownLanguageError. */
export function findLanguage<T extends LanguageRecipe>(languages: readonly T[], name: string): T {
  const wanted = name.toLowerCase();
  const found = languages.find((language) => language.id === wanted || language.aliases.some((alias) => alias.toLowerCase() === wanted));
  if (found === undefined) throw new UnknownLanguageError(name, languages.map((language) => language.id));
  return found;
}

/** Guesses a language from a file name's extension; undefined when none matches. */
export function guessLanguage<T extends LanguageRecipe>(languages: readonly T[], fileName: string): T | undefined {
  const extension = path.extname(fileName).toLowerCase();
  if (extension === "") return undefined;
  return languages.find((language) => language.extensions.includes(extension));
}

export interface ExpandContext {
  /** Job file paths; the first is the entry point. */
  readonly files: readonly string[];
  /** The stage's memory limit, for JVM sizing. */
  readonly memoryMb: number;
}

/** Replaces the placeholders (see schema.ts) in a command template. */
export function expandCommand(template: readonly string[], language: LanguageRecipe, context: ExpandContext): string[] {
  const entry = context.files[0];
  if (entry === undefined) throw new RangeError("A job has at least one file.");
  const sources = context.files.filter((file) => language.extensions.includes(path.extname(file).toLowerCase()));
  if (!sources.includes(entry)) sources.unshift(entry);
  const argv: string[] = [];
  for (const arg of template) {
    switch (arg) {
      case "{source}":
        argv.push(entry);
        break;
      case "{sources}":
        argv.push(...[entry, ...sources.filter((file) => file !== entry)]);
        break;
      case "{stem}":
        argv.push(path.basename(entry, path.extname(entry)));
        break;
      case "{jvmFlags}":
        argv.push(...jvmFlags(context.memoryMb));
        break;
      case "{javacFlags}":
        argv.push(...javacFlags(context.memoryMb));
        break;
      default:
        argv.push(arg);
    }
  }
  return argv;
}
