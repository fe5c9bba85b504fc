import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Environment } from "../config/settings.js";
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

/** A command's subcommands by name: each takes the rest of the command line and gives the exit code. */
export type Subcommands = Readonly<Record<string, (argv: string[], env: Environment) => Promise<number>>>;

/**
 * `warren COMMAND NAME …`: runs NAME of SUBCOMMANDS on the rest of ARGV;
 * `--help`, `-h` or `help` prints USAGE; no name, or one not there, is a
 * usage error.
 */
export async function runSubcommand(command: string, usage: string, subcommands: Subcommands, argv: string[], env: Environment): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const subcommand = name === undefined ? undefined : subcommands[name];
  if (subcommand === undefined) throw new InvalidRequestError(`warren ${command}: ${name === undefined ? "no command given" : `unknown command ${JSON.stringify(name)}`}.\n\n${usage}`);
  return subcommand(rest, env);
}
