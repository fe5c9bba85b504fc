import { finalResult, runEvents, type EventsOptions } from "./run-events.js";
import { decodeLogs, Transport, type ClientOptions } from "./transport.js";
import type {
  DeployRequest,
  FunctionDetails,
  FunctionListing,
  FunctionPage,
  FunctionVersion,
  ImageInfo,
  Invocation,
  InvokeOptions,
  InvokeResponse,
  Language,
  Pending,
  RunEvent,
  RunRequest,
  RunResult,
  Submitted,
} from "./types.js";

/**
 * A client of Warren's own API (/v1; API.md and docs/api-extensions.md) on
 * `fetch` alone. Errors: the API's answers as WarrenApiError (status, code,
 * message, details), a server out of reach as WarrenConnectionError naming
 * its URL, an answer past `maxResponseBytes` as WarrenResponseError.
 *
 * ```ts
 * const warren = new WarrenClient({ url: "http://127.0.0.1:8080", apiKey: process.env.KEY });
 * const result = await warren.runs.submitAndWait({ language: "python", files: [{ path: "main.py", content: "print(42)" }] });
 * ```
 */
export class WarrenClient {
  readonly #http: Transport;
  readonly runs: RunsApi;
  readonly functions: FunctionsApi;
  readonly invocations: InvocationsApi;

  constructor(options: ClientOptions) {
    this.#http = new Transport(options);
    this.runs = new RunsApi(this.#http);
    this.functions = new FunctionsApi(this.#http);
    this.invocations = new InvocationsApi(this.#http);
  }

  /** The server's base URL, as requests are sent to it. */
  get url(): string {
    return this.#http.base;
  }

  /** GET /v1/languages: one row per language and image. */
  async languages(): Promise<Language[]> {
    return this.#http.json<Language[]>(await this.#http.request("GET", "/v1/languages"));
  }

  /** GET /v1/images: the installed images. */
  async images(): Promise<ImageInfo[]> {
    return this.#http.json<ImageInfo[]>(await this.#http.request("GET", "/v1/images"));
  }

  /** GET /healthz: resolves while the server's process lives. */
  async health(): Promise<{ ok: true }> {
    return this.#http.json<{ ok: true }>(await this.#http.request("GET", "/healthz"));
  }

  /** GET /readyz: resolves when the server can run code (its queue and a worker's sandbox usable); else a WarrenApiError 503 `unavailable` with the reason. */
  async ready(): Promise<{ ok: true }> {
    return this.#http.json<{ ok: true }>(await this.#http.request("GET", "/readyz"));
  }
}

/** /v1/runs. */
export class RunsApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** POST /v1/runs: queues the run; its id. */
  async submit(request: RunRequest, options: { readonly signal?: AbortSignal } = {}): Promise<Submitted> {
    return this.#http.json<Submitted>(await this.#http.request("POST", "/v1/runs", { json: request, ...options }));
  }

  /**
   * POST /v1/runs?wait=true, then — when the server's bounded wait ended
   * first (202) — the run's events to its end: the final RunResult however
   * long the run takes.
   */
  async submitAndWait(request: RunRequest, options: EventsOptions = {}): Promise<RunResult> {
    const response = await this.#http.request("POST", "/v1/runs", { json: request, query: { wait: "true" }, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    const result = await this.#http.json<RunResult>(response);
    return response.status === 200 ? result : this.wait(result.id, options);
  }

  /** GET /v1/runs/:id: where the run is, or its result. */
  async get(id: string): Promise<RunResult> {
    return this.#http.json<RunResult>(await this.#http.request("GET", `/v1/runs/${encodeURIComponent(id)}`));
  }

  /** DELETE /v1/runs/:id: cancels a queued or running run; its RunResult (a finished run's is left as it was). */
  async cancel(id: string): Promise<RunResult> {
    return this.#http.json<RunResult>(await this.#http.request("DELETE", `/v1/runs/${encodeURIComponent(id)}`));
  }

  /** GET /v1/runs/:id/events: the run's events as they happen, resumed with Last-Event-ID when the stream breaks, ending with `result`. */
  events(id: string, options: EventsOptions = {}): AsyncGenerator<RunEvent, void, undefined> {
    return runEvents(this.#http, id, options);
  }

  /** The run's final RunResult, followed through its events. */
  async wait(id: string, options: EventsOptions = {}): Promise<RunResult> {
    return finalResult(this.#http, id, options);
  }
}

/** /v1/functions (docs/api-extensions.md, *Functions*). */
export class FunctionsApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /**
   * PUT /v1/functions/:name: a new version, once it compiled and loaded on a
   * worker (a refusal is a WarrenApiError, e.g. 400 `function_cannot_start`
   * with the compiler's or the import's output in `details.output`); Pending
   * when the trial outlasted the server's wait.
   */
  async deploy(name: string, request: DeployRequest): Promise<FunctionVersion | Pending> {
    return this.#http.json<FunctionVersion | Pending>(await this.#http.request("PUT", `/v1/functions/${encodeURIComponent(name)}`, { json: request }));
  }

  /** GET /v1/functions: each function with its latest version, by name, every page. */
  async list(): Promise<FunctionListing[]> {
    const all: FunctionListing[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.listPage({ limit: 1000, ...(after === undefined ? {} : { after }) });
      all.push(...page.functions);
      if (page.next === undefined) return all;
      after = page.next;
    }
  }

  /** One page of GET /v1/functions: at most `limit` (server default 100) after the name `after`, and the next page's cursor. */
  async listPage(options: { readonly limit?: number; readonly after?: string } = {}): Promise<FunctionPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.after !== undefined) query.set("after", options.after);
    const response = await this.#http.request("GET", `/v1/functions${query.size === 0 ? "" : `?${query.toString()}`}`);
    const next = response.headers.get("x-warren-next-cursor");
    return { functions: await this.#http.json<FunctionListing[]>(response), ...(next === null ? {} : { next }) };
  }

  /** GET /v1/functions/:name: its versions, oldest first. */
  async get(name: string): Promise<FunctionDetails> {
    return this.#http.json<FunctionDetails>(await this.#http.request("GET", `/v1/functions/${encodeURIComponent(name)}`));
  }

  /** DELETE /v1/functions/:name: every version. */
  async delete(name: string): Promise<{ name: string; deleted: true }> {
    return this.#http.json<{ name: string; deleted: true }>(await this.#http.request("DELETE", `/v1/functions/${encodeURIComponent(name)}`));
  }

  /**
   * POST /v1/functions/:name[@version]/invoke: the function's response with
   * the X-Warren-* headers as fields; Pending when the server's wait ended
   * first. The function's faults are WarrenApiErrors with their own codes
   * (502 `function_error`, 504 `function_timeout`, 502
   * `function_memory_exceeded`), carrying the invocation's id. A value is
   * sent as JSON, a string as text, bytes as they are.
   */
  async invoke(name: string, event: unknown, options: InvokeOptions = {}): Promise<InvokeResponse | Pending> {
    const response = await this.#http.request("POST", this.#invokePath(name, options), this.#invokeInit(event, options, false));
    if (response.status === 202) return this.#http.json<Pending>(response);
    const header = (field: string) => response.headers.get(field) ?? "";
    const logs = decodeLogs(response.headers.get("x-warren-logs"));
    return {
      invocationId: header("x-warren-invocation-id"),
      functionVersion: header("x-warren-function-version"),
      contentType: header("content-type"),
      body: await this.#http.bytes(response),
      durationMs: Number(header("x-warren-duration-ms")),
      ...(response.headers.get("x-warren-handler-ms") === null ? {} : { handlerMs: Number(header("x-warren-handler-ms")) }),
      cpuTimeMs: Number(header("x-warren-cpu-time-ms")),
      memoryKb: Number(header("x-warren-memory-kb")),
      cold: header("x-warren-cold") === "true",
      ...(response.headers.get("x-warren-worker") === null ? {} : { worker: header("x-warren-worker") }),
      ...(logs === undefined ? {} : { logs }),
    };
  }

  /** The same, async (`?async=true`): queued at once; follow it with `invocations.get(id)` (or its callbackUrl). */
  async invokeAsync(name: string, event: unknown, options: InvokeOptions = {}): Promise<Submitted> {
    return this.#http.json<Submitted>(await this.#http.request("POST", this.#invokePath(name, options), this.#invokeInit(event, options, true)));
  }

  #invokePath(name: string, options: InvokeOptions): string {
    const ref = options.version === undefined ? encodeURIComponent(name) : `${encodeURIComponent(name)}@${encodeURIComponent(String(options.version))}`;
    return `/v1/functions/${ref}/invoke`;
  }

  #invokeInit(event: unknown, options: InvokeOptions, async: boolean) {
    const body =
      event instanceof Uint8Array
        ? { bytes: event, contentType: options.contentType ?? "application/octet-stream" }
        : typeof event === "string"
          ? { bytes: event, contentType: options.contentType ?? "text/plain; charset=utf-8" }
          : { bytes: JSON.stringify(event ?? null), contentType: options.contentType ?? "application/json" };
    return {
      body,
      query: { ...(async ? { async: "true" } : {}), ...(options.logs === true ? { logs: "true" } : {}), ...(options.callbackUrl === undefined ? {} : { callbackUrl: options.callbackUrl }) },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
  }
}

/** /v1/invocations. */
export class InvocationsApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** GET /v1/invocations/:id: where it is, and once finished its outcome (the body base64: `invocationBody`). */
  async get(id: string): Promise<Invocation> {
    return this.#http.json<Invocation>(await this.#http.request("GET", `/v1/invocations/${encodeURIComponent(id)}`));
  }
}

/** A job still waiting when the server's bounded wait ended. */
export function isPending(answer: object): answer is Pending {
  return "id" in answer && "status" in answer && ((answer as Pending).status === "queued" || (answer as Pending).status === "running");
}

