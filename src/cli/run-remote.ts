import { once } from "node:events";
import { WarrenApiError, WarrenClient, WarrenConnectionError, outputBytes, type Language, type RunRequest, type RunResult } from "../client/index.js";
import { InvalidRequestError } from "../errors.js";
import { EXIT_USAGE, EXIT_WARREN_FAILED } from "./exit-code.js";
import { cannotGuess, reportRun } from "./run-report.js";

/** What `warren run` read from its command line, to run here or on a server. */
export interface RunInput {
  readonly lang: string | undefined;
  readonly image: string | undefined;
  readonly files: RunRequest["files"];
  readonly stdin: string;
  readonly limits: NonNullable<RunRequest["limits"]>;
  readonly json: boolean;
  /** The first file's name as given, for guessing its language. */
  readonly first: string;
}

/** 128 + SIGINT, as a shell reports a program ended by Ctrl-C. */
const EXIT_INTERRUPTED = 130;

/**
 * `warren run --server URL`: the same request through the client, with the
 * same live output (the run stage's output events) and the same exit codes.
 * Ctrl-C cancels the run on the server before exiting.
 */
export async function runRemote(server: string, apiKey: string | undefined, input: RunInput): Promise<number> {
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) {
    throw new InvalidRequestError(`Expected --server to be an http(s) URL such as http://127.0.0.1:8080, got \`${server}\`.`);
  }
  const client = new WarrenClient({ url: server, ...(apiKey === undefined ? {} : { apiKey }) });
  try {
    const language = input.lang ?? guess(await client.languages(), input, server);
    const request: RunRequest = { language, ...(input.image === undefined ? {} : { image: input.image }), files: input.files, stdin: input.stdin, limits: input.limits };
    const { id } = await client.runs.submit(request);
    // Ctrl-C: the run is the server's to end, so it is cancelled there; this process then stops following it and exits as a program ended by SIGINT would.
    const interrupted = new AbortController();
    let interrupting = false;
    const interrupt = () => {
      interrupting = true;
      void client.runs.cancel(id).catch(() => {}).finally(() => interrupted.abort());
    };
    process.once("SIGINT", interrupt);
    try {
      const result = input.json ? await client.runs.wait(id, { signal: interrupted.signal }) : await follow(client, id, interrupted.signal);
      return interrupting ? EXIT_INTERRUPTED : reportRun(result, input.json);
    } catch (error) {
      if (interrupting) return EXIT_INTERRUPTED;
      throw error;
    } finally {
      process.off("SIGINT", interrupt);
    }
  } catch (error) {
    return refused(error, server);
  }
}

/** The run's events: its run stage's output printed as it comes (written at the pace stdout takes it), then its result. */
async function follow(client: WarrenClient, id: string, signal: AbortSignal): Promise<RunResult> {
  for await (const event of client.runs.events(id, { signal })) {
    if (event.type === "output" && event.stage === "run") {
      const stream = event.stream === "stdout" ? process.stdout : process.stderr;
      if (!stream.write(outputBytes(event))) await once(stream, "drain");
    }
    if (event.type === "result") return event.result;
  }
  throw new WarrenConnectionError(client.url, new Error(`the event stream of run ${id} ended without its result`));
}

/** The language of the first file, by the extensions the server's languages claim (within --image). */
function guess(languages: readonly Language[], input: RunInput, server: string): string {
  const candidates = input.image === undefined ? languages : languages.filter((language) => language.image === input.image);
  if (input.image !== undefined && candidates.length === 0) {
    throw new InvalidRequestError(`warren run: the server at ${server} has no image ${JSON.stringify(input.image)} (see GET /v1/images).`);
  }
  const extension = /\.[^./]+$/.exec(input.first)?.[0]?.toLowerCase();
  const found = extension === undefined ? undefined : candidates.find((language) => (language.extensions ?? []).includes(extension));
  if (found === undefined) throw cannotGuess(input.first);
  return found.id;
}

/**
 * The server's refusal as the local command says its own: a bad request
 * (400) exits 2 as bad flags do, another refusal (401, 404, 413, 429) 1,
 * Warren's failure or a server out of reach 125.
 */
function refused(error: unknown, server: string): number {
  if (error instanceof WarrenApiError) {
    const said = error.code === "invalid_request" ? error.message : `warren run: the server at ${server} answered ${error.status} ${error.code}: ${error.message}`;
    process.stderr.write(`${said}\n`);
    return error.status === 400 ? EXIT_USAGE : error.status < 500 ? 1 : EXIT_WARREN_FAILED;
  }
  if (error instanceof WarrenConnectionError) {
    process.stderr.write(`warren run: ${error.message} Check --server, or start one with \`warren serve\`.\n`);
    return EXIT_WARREN_FAILED;
  }
  throw error;
}
