import type { ExecStream } from "../sandbox/container/container.js";
import type { ExecResult } from "../sandbox/container/exec-types.js";
import type { SessionInputReader } from "../queue/session-input.js";

/**
 * Feeds a session's stdin into a streamed execution: each chunk awaits the
 * launcher's pipe before the next is read (so the program's reading paces
 * the client: session-input.ts), and the program gets EOF at the end of
 * input. Resolves with the execution's result; the input is closed then,
 * whatever the client still sends.
 */
export function feedSessionStdin(stream: ExecStream, input: SessionInputReader): Promise<ExecResult> {
  let over = false;
  const result = stream.result.finally(() => {
    over = true;
    void input.close();
  });
  void (async () => {
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
