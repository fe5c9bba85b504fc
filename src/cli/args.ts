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
