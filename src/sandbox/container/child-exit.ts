import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";

/** What these helpers need of a child process (a ChildProcess, or fast-spawn's LauncherProcess). */
export interface ExitingChild extends EventEmitter {
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves once `child` has exited and its stdio is closed ('close'), at once if that already happened. */
export function waitForClose(child: ExitingChild): Promise<ChildExit> {
  return new Promise((resolve) => {
    const done = () => resolve({ code: child.exitCode, signal: child.signalCode });
    if ((child.exitCode !== null || child.signalCode !== null) && child.stdout?.closed !== false && child.stderr?.closed !== false) {
      done();
      return;
    }
    child.once("close", done);
  });
}

/** Whether `child` is still running. */
export function isRunning(child: ExitingChild): boolean {
  return child.exitCode === null && child.signalCode === null;
}
