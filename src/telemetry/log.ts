import { pino, type Logger } from "pino";

/** Structured JSON logs on stderr (WARREN_LOG_LEVEL, default info); each run's lines carry `runId`. */
export function createLogger(env: NodeJS.ProcessEnv = process.env, name = "warren"): Logger {
  return pino({ name, level: env.WARREN_LOG_LEVEL ?? "info", base: { pid: process.pid } }, pino.destination(2));
}
