import { loadSettings } from "../config/load-settings.js";
import type { Environment, QueueSettings } from "../config/settings.js";

/** The queue's settings: WARREN_QUEUE, REDIS_URL and the rest of the queue's variables (src/config/variables.ts). */
export type QueueConfig = QueueSettings;

/**
 * The queue settings of an environment (tests, and anything that builds a
 * queue without `warren`; the commands hand down theirs from loadSettings).
 * Throws InvalidRequestError naming a bad variable.
 */
export function queueConfig(env: Environment): QueueConfig {
  return loadSettings(env).queue;
}

/** WARREN_RESULT_MAX_BYTES alone, as `warren run` reads it; throws InvalidRequestError naming it when bad. */
export function resultMaxBytes(env: Environment): number {
  return loadSettings(env, "run").queue.resultMaxBytes;
}
