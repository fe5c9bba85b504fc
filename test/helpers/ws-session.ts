import { WebSocket, type ClientOptions } from "ws";

/** A message the server sent in a session (docs/api-extensions.md, *Sessions*). */
export type SessionMessage = { readonly type: string } & Record<string, unknown>;

/**
 * A real WebSocket client (`ws`) on GET /v1/sessions that keeps what it
 * receives: the messages in order, the stdout so far, and how it closed.
 */
export class SessionClient {
  readonly ws: WebSocket;
  readonly messages: SessionMessage[] = [];
  /** Resolves with the close code and reason once the connection is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (isBinary) throw new Error("the server sent a binary message; sessions send JSON text");
      this.messages.push(JSON.parse(data.toString()) as SessionMessage);
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    void this.closed.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused (`status` and `body` on the error). */
  static open(base: string, options: { protocols?: string[]; headers?: Record<string, string> } & ClientOptions = {}): Promise<SessionClient> {
    const { protocols, ...rest } = options;
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/v1/sessions`, protocols ?? [], rest);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new SessionClient(ws)));
      ws.once("unexpected-response", (_request, response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => reject(Object.assign(new Error(`refused: ${response.statusCode}`), { status: response.statusCode, body })));
      });
      ws.once("error", reject);
    });
  }

  /** Sends the run request (the first message). */
  request(body: unknown): void {
    this.ws.send(JSON.stringify(body));
  }

  /** Sends stdin bytes (a binary message). */
  stdin(text: string | Buffer): void {
    this.ws.send(typeof text === "string" ? Buffer.from(text) : text, { binary: true });
  }

  end(): void {
    this.ws.send(JSON.stringify({ type: "end" }));
  }

  /** Sends a signal message for the program (e.g. "SIGINT"). */
  signal(name: string): void {
    this.ws.send(JSON.stringify({ type: "signal", signal: name }));
  }

  /** Everything the program wrote to stdout so far, decoded. */
  stdout(): string {
    return this.messages
      .filter((message) => message.type === "output" && message.stream === "stdout")
      .map((message) => Buffer.from(message.data as string, message.encoding as BufferEncoding).toString("utf8"))
      .join("");
  }

  /** Waits until `check` returns something other than undefined (checked on every message); rejects if the connection closes first. */
  async until<T>(what: string, check: () => T | undefined): Promise<T> {
    let closed = false;
    void this.closed.then(() => (closed = true));
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (closed || this.ws.readyState === WebSocket.CLOSED) throw new Error(`the session closed before ${what}: ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  /** The first message of TYPE (waiting for it). */
  message(type: string): Promise<SessionMessage> {
    return this.until(`a ${type} message`, () => this.messages.find((message) => message.type === type));
  }
}
