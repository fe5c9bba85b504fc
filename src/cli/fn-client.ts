import { WarrenError } from "../errors.js";

/** An answer of the server, read whole (a function's response is bounded by its output limit). */
export interface ClientAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** `warren fn`'s HTTP client: the server at `base`, with the API key when there is one. */
export class FunctionClient {
  readonly #base: string;
  readonly #key: string | undefined;

  constructor(base: string, key: string | undefined) {
    this.#base = base.replace(/\/+$/, "");
    this.#key = key;
  }

  async request(method: string, path: string, send?: { readonly body: string | Buffer; readonly contentType: string }): Promise<ClientAnswer> {
    const headers: Record<string, string> = {};
    if (this.#key !== undefined) headers.authorization = `Bearer ${this.#key}`;
    if (send !== undefined) headers["content-type"] = send.contentType;
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, { method, headers, ...(send === undefined ? {} : { body: send.body }) });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new WarrenError("server_unreachable", `Cannot reach the Warren server at ${this.#base} (${cause}): start one with \`warren serve\`, or give its address with --url or WARREN_URL.`);
    }
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  }
}
