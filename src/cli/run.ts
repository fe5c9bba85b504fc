import fs from "node:fs";
import path from "node:path";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { openSandboxHost } from "../sandbox/sandbox-host.js";
import { findLanguage, guessLanguage } from "../sandbox/images/languages.js";
import { jobSpecFromBody } from "../run/job-spec.js";
import { runJob } from "../worker/run-job.js";
import type { JobEvent } from "../run/events.js";
import { parseCommand, positiveInteger } from "./args.js";
import { runRemote } from "./run-remote.js";
import { cannotGuess, reportRun } from "./run-report.js";

export const RUN_USAGE = `Usage: warren run [--server URL] [--lang ID] [--image NAME] [--stdin FILE] [--json] [--wall-ms N] [--memory-mb N] [--cpu-ms N] FILE...

Runs FILE... in a sandbox; the first file is the entry point. Prints the program's
stdout and stderr as it produces them and exits with its exit code (128+signal when killed, 124 on a
time limit, 1 on a compile error, 125 when Warren failed).

  --server URL    run on the Warren server at URL (its key: WARREN_API_KEY) instead of on this
                  machine; the same output and exit codes
  --lang ID       language id or alias (default: guessed from the first file's extension)
  --image NAME    the installed image to run in (default: the newest version of the language in any image)
  --stdin FILE    file to feed as stdin ("-" for this process's stdin)
  --json          print the RunResult as JSON instead of the program's output
  --wall-ms N     wall-clock limit in ms
  --memory-mb N   memory limit in MB
  --cpu-ms N      CPU-time limit in ms`;

/** `warren run`. Returns the exit code. */
export async function runCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("run", RUN_USAGE, {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      lang: { type: "string" },
      image: { type: "string" },
      stdin: { type: "string" },
      json: { type: "boolean", default: false },
      "wall-ms": { type: "string" },
      "memory-mb": { type: "string" },
      "cpu-ms": { type: "string" },
      server: { type: "string" },
    },
  });
  if (parsed === undefined) return 0; // --help
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new InvalidRequestError(`warren run: no FILE given.\n\n${RUN_USAGE}`);
  const limits = {
    wallTimeMs: positiveInteger("wall-ms", values["wall-ms"]),
    memoryMb: positiveInteger("memory-mb", values["memory-mb"]),
    cpuTimeMs: positiveInteger("cpu-ms", values["cpu-ms"]),
  };
  const settings = loadSettings(env, "run"); // a bad setting fails before anything runs
  const files = positionals.map((file) => ({ path: path.basename(file), content: readInput(file).toString("base64"), encoding: "base64" as const }));
  const stdin = values.stdin === undefined ? "" : readInput(values.stdin).toString("utf8");
  const given = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
  const job = { lang: values.lang, image: values.image, files, stdin, limits: given, json: values.json, first: positionals[0] as string };
  if (values.server !== undefined) return runRemote(values.server, settings.client.apiKey, job);

  const sandbox = await openSandboxHost(settings.sandbox);
  const all = sandbox.catalog.languages();
  const candidates = values.image === undefined ? all : sandbox.catalog.find(values.image).languages;
  const language = values.lang !== undefined ? findLanguage(candidates, values.lang) : guessLanguage(candidates, job.first);
  if (language === undefined) throw cannotGuess(job.first);
  const spec = jobSpecFromBody({ language: language.id, ...(values.image === undefined ? {} : { image: values.image }), files, stdin, limits: given }, { languages: all });
  // The program's output is printed as it comes (a compiler's only if it fails, below); --json prints the result alone.
  const live = (event: JobEvent) => {
    if (event.type === "output" && event.ref.stage === "run") (event.stream === "stdout" ? process.stdout : process.stderr).write(event.data);
  };
  const result = await runJob(spec, sandbox, undefined, { resultMaxBytes: settings.queue.resultMaxBytes, ...(values.json ? {} : { onEvent: live }) });
  return reportRun(result, values.json);
}

function readInput(file: string): Buffer {
  try {
    return fs.readFileSync(file === "-" ? 0 : file);
  } catch (error) {
    throw new InvalidRequestError(`warren run: cannot read ${file}: ${(error as Error).message}`);
  }
}
