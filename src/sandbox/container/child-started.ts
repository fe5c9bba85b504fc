import type { ChildProcess } from "node:child_process";
import { ProgramStartError } from "../../errors.js";

/**
 * Resolves once `child` has started ('spawn'); rejects with ProgramStartError
 * when it could not be (ENOENT, EACCES, …: Node reports those as an 'error'
 * event, which nobody would be listening for once the caller has moved on).
 * Later 'error' events (a failed kill) are the caller's to handle.
 */
export function childStarted(child: ChildProcess, program: string, advice: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = () => {
      child.off("error", onError);
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      child.off("spawn", onSpawn);
      reject(new ProgramStartError(program, error, advice));
    };
    child.once("spawn", onSpawn);
    child.once("error", onError);
  });
}
