import { z } from "zod";

/** The `warren` commands that read the environment (`image` is every `warren image …`). */
export const COMMANDS = ["serve", "worker", "run", "languages", "image", "doctor", "setup-cgroups", "fn"] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * One environment variable Warren reads. `schema` turns its text (undefined
 * when it is unset or empty) into its typed value: it carries the default,
 * and as its `.describe()` the meaning, in the words of README.md's and
 * docs/service.md's tables (test/config/docs-tables.test.ts holds them to it).
 */
export interface Variable<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  /** The default as the docs say it ("number of cores", "unset: public addresses only"). */
  readonly default: string;
  /** The commands that read it; the others neither check nor use it. */
  readonly commands: readonly Command[];
  /** Its value may hold a password: an error names the variable but does not repeat the value. */
  readonly secret?: boolean;
  /** Not Warren's own (HOME, USER, …): read, but listed in no configuration table. */
  readonly system?: boolean;
}

/** An integer from `min` to `max`, each refusal naming the variable ("WARREN_CONCURRENCY must be at least 1"). */
export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.coerce
    .number({ message: `${name} must be an integer` })
    .int({ message: `${name} must be an integer` })
    .min(min, { message: `${name} must be at least ${min}` })
    .max(max, { message: `${name} must be at most ${max}` });
}

/** `1` (on) or `0` (off); unset is off. */
export function flag(name: string) {
  return z
    .enum(["0", "1"], { message: `${name} must be 1 (on) or 0 (off)` })
    .transform((text) => text === "1")
    .default(false);
}

/** Comma-separated items, each trimmed; blank ones are ignored. Unset is none. */
export function list() {
  return z
    .string()
    .transform((text): readonly string[] => Object.freeze(text.split(",").map((item) => item.trim()).filter((item) => item !== "")))
    .default(Object.freeze([]));
}

/** Any text (a path, an address, a URL checked where it is used); unset is undefined. */
export function text() {
  return z.string().optional();
}
