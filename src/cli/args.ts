import { parseArgs, type ParseArgsConfig } from "node:util";
import { InvalidRequestError } from "../errors.js";

/** A command-line flag's value as a positive integer, with a message a person can act on. */
export function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number <= 0) {
    throw new InvalidRequestError(`Expected --${flag} to be a positive integer, got \`${value}\`.`);
  }
  return number;
}

/** node:util parseArgs errors, reworded for people. */
export function usageError(command: string, error: unknown, usage: string): InvalidRequestError {
  const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, ".") : String(error);
  return new InvalidRequestError(`warren ${command}: ${message}\n\n${usage}`);
}

/**
 * parseArgs for one command: a parse error becomes a usage error naming the
 * command, and `--help` / `-h` (every command takes it) prints USAGE and gives
 * undefined, after which the command exits 0.
 */
export function parseCommand<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> | undefined {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs({ ...config, options: { ...config.options, help: { type: "boolean", short: "h" } } }) as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    throw usageError(command, error, usage);
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return parsed;
}
