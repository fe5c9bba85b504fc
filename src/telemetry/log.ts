import { pino, type LevelWithSilent, type Logger } from "pino";

/** Structured JSON logs on stderr at `level` (WARREN_LOG_LEVEL); each run's lines carry `runId`. */
export function createLogger(level: LevelWithSilent = "info", name = "warren"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
