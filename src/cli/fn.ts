import fs from "node:fs";
import path from "node:path";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { parseCommand } from "./args.js";
import { EXIT_WARREN_FAILED } from "./exit-code.js";
import { FunctionClient } from "./fn-client.js";
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

const commands: Record<string, (argv: string[], env: Environment) => Promise<number>> = {
  deploy: fnDeploy,
  invoke: fnInvoke,
  ls: fnList,
  list: fnList,
  rm: fnRemove,
};

/** `warren fn …`: functions on a server (docs/api-extensions.md, *Functions*). */
export async function fnCommand(argv: string[], env: Environment): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${FN_USAGE}\n`);
    return 0;
  }
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) throw new InvalidRequestError(`warren fn: ${name === undefined ? "no command given" : `unknown command ${JSON.stringify(name)}`}.\n\n${FN_USAGE}`);
  return command(rest, env);
}

function client(env: Environment, flag: string | undefined): FunctionClient {
  const settings = loadSettings(env, "fn").client;
  const base = flag ?? settings.url;
  if (!URL.canParse(base)) throw new InvalidRequestError(`Expected --url to be a URL such as http://127.0.0.1:8080, got \`${base}\`.`);
  return new FunctionClient(base, settings.apiKey);
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
  const body = {
    language: values.lang,
    files,
    ...(values.handler === undefined ? { mode: "process" } : { handler: values.handler }),
    ...(values.version === undefined ? {} : { version: values.version }),
  };
  const answer = await client(env, values.url).request("PUT", `/v1/functions/${encodeURIComponent(values.name)}`, { body: JSON.stringify(body), contentType: "application/json" });
  return report(answer, () => {
    const version = JSON.parse(answer.body.toString("utf8")) as { name: string; version: string; digest: string };
    process.stdout.write(`deployed ${version.name} version ${version.version} (${version.digest.slice(0, 12)})\n`);
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
  const query = [values.logs ? "logs=true" : "", values.async ? "async=true" : ""].filter((part) => part !== "").join("&");
  const answer = await client(env, values.url).request("POST", `/v1/functions/${encodeURIComponent(positionals[0]!).replace("%40", "@")}/invoke${query === "" ? "" : `?${query}`}`, { body, contentType });
  const logs = answer.headers.get("x-warren-logs");
  if (logs !== null) {
    const decoded = JSON.parse(Buffer.from(logs, "base64").toString("utf8")) as { stdout: string; stderr: string };
    process.stderr.write(`${decoded.stdout}${decoded.stderr}`);
  }
  return report(answer, () => {
    if (answer.status === 202) process.stdout.write(`${(JSON.parse(answer.body.toString("utf8")) as { id: string }).id}\n`);
    else process.stdout.write(answer.body);
  });
}

async function fnList(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn ls", FN_USAGE, { args: argv, strict: true, options: { ...url } });
  if (parsed === undefined) return 0;
  const api = client(env, parsed.values.url);
  // Every page (GET /v1/functions pages by name; X-Warren-Next-Cursor names the next one).
  for (let after: string | null = null; ; ) {
    const answer = await api.request("GET", `/v1/functions?limit=1000${after === null ? "" : `&after=${encodeURIComponent(after)}`}`);
    const code = report(answer, () => {
      const listed = JSON.parse(answer.body.toString("utf8")) as { name: string; versions: number; latest: { version: string; language: string; mode: string; handler: string | null; createdAt: string } }[];
      for (const fn of listed) {
        process.stdout.write(`${fn.name}\t${fn.latest.version}\t${fn.versions} version${fn.versions === 1 ? "" : "s"}\t${fn.latest.language}\t${fn.latest.handler ?? fn.latest.mode}\t${fn.latest.createdAt}\n`);
      }
    });
    after = answer.headers.get("x-warren-next-cursor");
    if (code !== 0 || after === null || answer.status !== 200) return code;
  }
}

async function fnRemove(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("fn rm", FN_USAGE, { args: argv, strict: true, allowPositionals: true, options: { ...url } });
  if (parsed === undefined) return 0;
  if (parsed.positionals.length !== 1) throw new InvalidRequestError(`warren fn rm: give one function name.\n\n${FN_USAGE}`);
  const name = parsed.positionals[0]!;
  const answer = await client(env, parsed.values.url).request("DELETE", `/v1/functions/${encodeURIComponent(name)}`);
  return report(answer, () => process.stdout.write(`deleted ${name}\n`));
}

/** Success: `done`, exit 0. A refusal or the function's fault: the error on stderr, 1; Warren's own failure (500, 503): 125. */
function report(answer: { status: number; body: Buffer }, done: () => void): number {
  if (answer.status < 300) {
    done();
    return 0;
  }
  let message = answer.body.toString("utf8");
  try {
    const parsed = JSON.parse(message) as { error?: { code?: string; message?: string; details?: { output?: string } } };
    if (parsed.error !== undefined) message = `${parsed.error.code ?? "error"}: ${parsed.error.message ?? ""}${parsed.error.details?.output === undefined ? "" : `\n${parsed.error.details.output}`}`;
  } catch {
    // not JSON: said as it is
  }
  process.stderr.write(`${message.trimEnd()}\n`);
  return answer.status === 500 || answer.status === 503 ? EXIT_WARREN_FAILED : 1;
}
