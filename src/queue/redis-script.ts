import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

type Arg = string | number | Buffer;

/**
 * A Lua script of Warren's (a run's create, update and event appends, a
 * function's version resolved, an invocation's route, a worker's advert, …),
 * sent by its SHA1 (EVALSHA) rather than its text (EVAL): the text, up to
 * 2 KB, was written by this process, and hashed by Redis, on every call.
 * Redis keeps a script once it ran it (or was sent it by EVAL); a Redis that
 * has not seen it, or forgot it (a restart, SCRIPT FLUSH), answers NOSCRIPT,
 * and the script is then sent once with EVAL, which runs it and keeps it.
 */
export class RedisScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script with `keys` (KEYS) and `args` (ARGV); its answer. */
  async run(redis: Redis, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}
