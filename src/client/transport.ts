import { InvalidRequestError } from "../errors.js";
import { base64Bytes } from "./bytes.js";
import { WarrenApiError, WarrenConnectionError, WarrenResponseError } from "./errors.js";

/** @see ClientOptions.maxResponseBytes */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** An error answer is small (a message, zod issues, a stack); a larger one is cut here. */
const ERROR_BODY_BYTES = 1024 * 1024;

export interface ClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (a path prefix is kept: https://host/warren). */
  readonly url: string;
  /** Sent as `Authorization: Bearer KEY` (the server's WARREN_API_KEYS). */
  readonly apiKey?: string;
  /** The fetch to use; default the global one (Node 20's undici). */
  readonly fetch?: typeof fetch;
  /**
   * Most bytes of one answer (or one event of a stream) the client reads;
   * past it the read stops with `response_too_large`. The server bounds a
   * RunResult's output (WARREN_RESULT_MAX_BYTES, 16 MiB by default, 64 MiB
   * at most), but its JSON escapes control bytes up to 6 characters each.
   * @defaultValue 268435456 (256 MiB)
   */
  readonly maxResponseBytes?: number;
}

export interface RequestInit {
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** A JSON body (sent as application/json). */
  readonly json?: unknown;
  /** A body as it is, with its content type. */
  readonly body?: { readonly bytes: string | Uint8Array; readonly contentType: string };
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** HTTP to one Warren server on fetch: the key on every call, errors as WarrenApiError, bodies read within a bound. */
export class Transport {
  readonly base: string;
  readonly #key: string | undefined;
  readonly #fetch: typeof fetch;
  readonly maxResponseBytes: number;

  constructor(options: ClientOptions) {
    if (typeof options.url !== "string" || !URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) {
      throw new InvalidRequestError(`Expected \`url\` to be an http(s) URL such as http://127.0.0.1:8080, got \`${String(options.url)}\`.`);
    }
    const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) throw new InvalidRequestError(`Expected \`maxResponseBytes\` to be a positive integer, got \`${String(max)}\`.`);
    this.base = options.url.replace(/\/+$/, "");
    this.#key = options.apiKey === undefined || options.apiKey === "" ? undefined : options.apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.maxResponseBytes = max;
  }

  /** Sends a request; an answer of 400 or more is thrown as WarrenApiError (its body read and discarded). */
  async request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const response = await this.send(method, path, init);
    if (response.status >= 400) throw await this.#error(response);
    return response;
  }

  /** Sends a request and gives whatever the server answered. */
  async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#key !== undefined) headers.authorization = `Bearer ${this.#key}`;
    let body: string | Uint8Array | undefined;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    } else if (init.body !== undefined) {
      headers["content-type"] = init.body.contentType;
      body = init.body.bytes;
    }
    const query = Object.entries(init.query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const url = `${this.base}${path}${query.length === 0 ? "" : `?${new URLSearchParams(query).toString()}`}`;
    try {
      return await this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body }), ...(init.signal === undefined ? {} : { signal: init.signal }) });
    } catch (error) {
      if (init.signal?.aborted === true) throw error;
      throw new WarrenConnectionError(this.base, error);
    }
  }

  /** The answer's body as bytes, at most `max` of them. */
  async bytes(response: Response, max = this.maxResponseBytes): Promise<Uint8Array> {
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > max) {
      await response.body?.cancel().catch(() => {});
      throw this.#tooLarge(response, max);
    }
    if (response.body === null) return new Uint8Array(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      let read: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
      try {
        read = await reader.read();
      } catch (error) {
        throw new WarrenConnectionError(this.base, error);
      }
      if (read.done) break;
      length += read.value.byteLength;
      if (length > max) {
        await reader.cancel().catch(() => {});
        throw this.#tooLarge(response, max);
      }
      chunks.push(read.value);
    }
    const whole = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      whole.set(chunk, at);
      at += chunk.byteLength;
    }
    return whole;
  }

  /** The answer's body parsed as JSON (typed by the caller from the server's schema; not checked again here). */
  async json<T>(response: Response): Promise<T> {
    const text = new TextDecoder().decode(await this.bytes(response));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new WarrenResponseError("invalid_response", response.url || this.base, `The server at ${this.base} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}.`);
    }
  }

  /** API.md's error shape as a WarrenApiError; any other answer (a proxy's page) as `http_error` with its first characters. */
  async #error(response: Response): Promise<WarrenApiError> {
    let text = "";
    try {
      text = new TextDecoder().decode(await this.bytes(response, ERROR_BODY_BYTES));
    } catch (error) {
      if (!(error instanceof WarrenResponseError)) throw error;
      text = "(an error body too large to read)";
    }
    const retry = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    const invocationId = response.headers.get("x-warren-invocation-id") ?? undefined;
    const logs = decodeLogs(response.headers.get("x-warren-logs"));
    const extra = { ...(Number.isSafeInteger(retry) ? { retryAfterSeconds: retry } : {}), ...(invocationId === undefined ? {} : { invocationId }), ...(logs === undefined ? {} : { logs }) };
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
      const error = parsed.error;
      if (typeof error?.code === "string" && typeof error.message === "string") return new WarrenApiError(response.status, error.code, error.message, error.details ?? null, extra);
    } catch {
      // not the error shape: said as it is, below
    }
    return new WarrenApiError(response.status, "http_error", `The server at ${this.base} answered ${response.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`, null, extra);
  }

  #tooLarge(response: Response, max: number): WarrenResponseError {
    return new WarrenResponseError("response_too_large", response.url || this.base, `The answer from ${this.base} is larger than this client's limit of ${max} bytes (maxResponseBytes).`);
  }
}

/** X-Warren-Logs: base64 of `{"stdout","stderr","truncated"}`; undefined when absent or not that. */
export function decodeLogs(header: string | null): WarrenApiError["logs"] {
  if (header === null) return undefined;
  try {
    const logs = JSON.parse(new TextDecoder().decode(base64Bytes(header))) as { stdout?: unknown; stderr?: unknown; truncated?: unknown };
    if (typeof logs.stdout !== "string" || typeof logs.stderr !== "string") return undefined;
    return { stdout: logs.stdout, stderr: logs.stderr, truncated: logs.truncated === true };
  } catch {
    return undefined;
  }
}
