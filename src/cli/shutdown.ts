import type { Logger } from "pino";

/**
 * Runs `stop` once on the first SIGTERM or SIGINT (graceful: stop taking
 * work, finish what runs); a second signal exits at once.
 */
export function onShutdown(logger: Logger, stop: (signal: string) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, "shutting down: no new jobs; finishing the running ones");
      stop(signal).then(resolve, (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        resolve();
      });
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}

/** Resolves after `ms`, or with `fallback` run first. */
export async function within<T>(ms: number, work: Promise<T>, fallback: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  const outcome = await Promise.race([work.then(() => "done" as const), late]);
  clearTimeout(timer);
  if (outcome === "late") {
    await fallback();
    await work;
  }
}

/** After a clean shutdown: exit even if a library left a handle open (the timer itself does not hold the process). */
export function exitSoon(ms = 2_000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), ms).unref();
}
