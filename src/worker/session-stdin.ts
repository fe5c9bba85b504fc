import type { Container } from "../sandbox/container/container.js";
import type { ExecRequest, ExecResult } from "../sandbox/container/exec-types.js";
import type { SessionInputReader } from "../queue/session-input.js";

/**
 * Serves a session's execution: REQUEST is started with its stdin streamed
 * (Container.start), its own `stdin` written first, then each chunk of the
 * session's input, each awaiting the launcher's pipe before the next is read
 * (so the program's reading paces the client: session-input.ts), then EOF at
 * the end of input. The client's signals go to the program as they come,
 * ahead of the stdin that waits (ExecStream.signal). Resolves with the
 * execution's result; the input is closed then, whatever the client still sends.
 */
export function serveSession(container: Container, request: ExecRequest, input: SessionInputReader): Promise<ExecResult> {
  // The request's stdin is written here, awaited like every chunk: a streamed
  // execution refuses more than 1 MiB waiting at once, and a request's stdin
  // may be larger than that by itself.
  const { stdin: first, ...rest } = request;
  const stream = container.start(rest);
  // The client's signals, out of band: at once, whatever stdin waits (those sent before it started first).
  input.onSignal((name) => stream.signal(name));
  let over = false;
  const result = stream.result.finally(() => {
    over = true;
    void input.close();
  });
  void (async () => {
    if (first !== undefined && first.length > 0) await stream.write(first);
    for (;;) {
      const chunk = await input.next();
      if (over) return;
      if (chunk === null) break;
      await stream.write(chunk);
      input.taken(chunk.length);
    }
    await stream.end();
  })().catch(() => {}); // a write refused once the execution has ended: its result says how it went
  return result;
}
