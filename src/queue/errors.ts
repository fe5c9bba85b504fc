import { WarrenError } from "../errors.js";

/** The queue's store (Redis) does not answer: the API says 503. */
export class QueueUnavailableError extends WarrenError {
  constructor(message: string, cause?: unknown) {
    super("unavailable", message, { cause });
  }
}

/** Wraps a store call so that a connection failure becomes QueueUnavailableError. */
export async function orUnavailable<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WarrenError) throw error;
    throw new QueueUnavailableError(`The queue's Redis did not answer (${what}): ${(error as Error).message}. Check REDIS_URL and that Redis is up.`, error);
  }
}
