import fs from "node:fs";
import path from "node:path";
import { isPending, WarrenApiError, WarrenClient, WarrenConnectionError, type DeployRequest } from "../client/index.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { parseCommand, runSubcommand, type Subcommands } from "./args.js";
import { EXIT_WARREN_FAILED } from "./exit-code.js";
import { readFunctionDir } from "./fn-files.js";

export const FN_USAGE = `Usage: warren fn <command> [--url URL]

  deploy DIR --name N --lang L [--handler H] [--version LABEL]
                              deploy DIR's files as a new version of function N: with --handler
                              (e.g. main.handler) its handler is called with (event, context);
                              without, mode process (the event on stdin, the response on stdout)
  invoke N[@VERSION] [--data JSON|@FILE] [--content-type T] [--logs] [--async]
                              invoke it: the response body on stdout (--logs: the logs on stderr;
                              --async: print the invocation id and return at once)
  ls                          the functions, with their latest version
  rm N                        delete a function and every version

Talks to the server at --url, else WARREN_URL (default http://127.0.0.1:8080), with
WARREN_API_KEY as its key. Exit codes: 0 success, 1 the function failed or the server
refused, 2 bad flags, 125 Warren failed.`;

const url = { url: { type: "string" } } as const;

const commands: Subcommands = {
  deploy: fnDeploy,
  invoke: fnInvoke,
  ls: fnList,
  list: fnList,
  rm: fnRemove,
};

/** `warren fn …`: functions on a server (docs/api-extensions.md, *Functions*). */
export async function fnCommand(argv: string[], env: Environment): Promise<number> {
  return runSubcommand("fn", FN_USAGE, commands, argv, env);
}

function client(env: Environment, flag: string | undefined): WarrenClient {
  const settings = loadSettings(env, "fn").client;
  const base = flag ?? settings.url;
  if (!URL.canParse(base)) throw new InvalidRequestError(`Expected --url to be a URL such as http://127.0.0.1:8080, got \`${base}\`.`);
  return new WarrenClient({ url: base, ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }) });
}

async function fnDeploy(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn deploy", FN_USAGE, {
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { ...url, name: { type: "string" }, lang: { type: "string" }, handler: { type: "string" }, version: { type: "string" } },
  });
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || values.name === undefined || values.lang === undefined) {
    throw new InvalidRequestError(`warren fn deploy: give one DIR, --name and --lang.\n\n${FN_USAGE}`);
  }
  const files = readFunctionDir(positionals[0]!);
  const request: DeployRequest = {
    language: values.lang,
    files,
    ...(values.handler === undefined ? { mode: "process" as const } : { handler: values.handler }),
    ...(values.version === undefined ? {} : { version: values.version }),
  };
  const name = values.name;
  return attempt(async () => {
    const answer = await client(env, values.url).functions.deploy(name, request);
    if (isPending(answer)) process.stdout.write(`deploying ${name}: still ${answer.status} (${answer.id}); \`warren fn ls\` shows it once it is stored\n`);
    else process.stdout.write(`deployed ${answer.name} version ${answer.version} (${answer.digest.slice(0, 12)})\n`);
  });
}

async function fnInvoke(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn invoke", FN_USAGE, {
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { ...url, data: { type: "string" }, "content-type": { type: "string" }, logs: { type: "boolean", default: false }, async: { type: "boolean", default: false } },
  });
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InvalidRequestError(`warren fn invoke: give one function name.\n\n${FN_USAGE}`);
  const data = values.data ?? "{}";
  const body = data.startsWith("@") ? fs.readFileSync(data.slice(1)) : Buffer.from(data, "utf8");
  const contentType = values["content-type"] ?? (data.startsWith("@") && path.extname(data) !== ".json" ? "application/octet-stream" : "application/json");
  const ref = positionals[0]!;
  const at = ref.indexOf("@");
  const [name, version] = at < 0 ? [ref, undefined] : [ref.slice(0, at), ref.slice(at + 1)];
  const options = { contentType, logs: values.logs, ...(version === undefined ? {} : { version }) };
  const functions = client(env, values.url).functions;
  return attempt(async () => {
    if (values.async) {
      process.stdout.write(`${(await functions.invokeAsync(name, new Uint8Array(body), options)).id}\n`);
      return;
    }
    const answer = await functions.invoke(name, new Uint8Array(body), options);
    if (isPending(answer)) {
      process.stdout.write(`${answer.id}\n`);
      return;
    }
    if (answer.logs !== undefined) process.stderr.write(`${answer.logs.stdout}${answer.logs.stderr}`);
    process.stdout.write(answer.body);
  });
}

async function fnList(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn ls", FN_USAGE, { args: argv, strict: true, options: { ...url } });
  if (parsed === undefined) return 0;
  const functions = client(env, parsed.values.url).functions;
  return attempt(async () => {
    for (const fn of await functions.list()) {
      process.stdout.write(`${fn.name}\t${fn.latest.version}\t${fn.versions} version${fn.versions === 1 ? "" : "s"}\t${fn.latest.language}\t${fn.latest.handler ?? fn.latest.mode}\t${fn.latest.createdAt}\n`);
    }
  });
}

async function fnRemove(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn rm", FN_USAGE, { args: argv, strict: true, allowPositionals: true, options: { ...url } });
  if (parsed === undefined) return 0;
  if (parsed.positionals.length !== 1) throw new InvalidRequestError(`warren fn rm: give one function name.\n\n${FN_USAGE}`);
  const name = parsed.positionals[0]!;
  const functions = client(env, parsed.values.url).functions;
  return attempt(async () => {
    await functions.delete(name);
    process.stdout.write(`deleted ${name}\n`);
  });
}

/**
 * Runs one call to the server. Success: exit 0. A refusal or the function's
 * fault: the error on stderr (with a deploy's compiler or import output), 1;
 * Warren's own failure (500, 503) or a server out of reach: 125.
 */
async function attempt(call: () => Promise<void>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (error) {
    if (error instanceof WarrenConnectionError) {
      process.stderr.write(`${error.message.replace(/\.$/, "")}: start one with \`warren serve\`, or give its address with --url or WARREN_URL.\n`);
      return EXIT_WARREN_FAILED;
    }
    if (!(error instanceof WarrenApiError)) throw error;
    if (error.logs !== undefined) process.stderr.write(`${error.logs.stdout}${error.logs.stderr}`);
    const output = (error.details as { output?: unknown } | null)?.output;
    process.stderr.write(`${error.code}: ${error.message}${typeof output === "string" ? `\n${output}` : ""}`.trimEnd() + "\n");
    return error.status === 500 || error.status === 503 ? EXIT_WARREN_FAILED : 1;
  }
}
