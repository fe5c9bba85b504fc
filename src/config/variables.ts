import os from "node:os";
import { z } from "zod";
import { RESULT_MAX_BYTES } from "../run/limits.js";
import { flag, integer, list, text, type Variable } from "./variable.js";

const MIB = 1024 * 1024;
/** WARREN_PENDING_MAX_BYTES: the default, and the least (one request of the largest body always fits). */
export const PENDING_MAX_BYTES = Object.freeze({ default: 256 * MIB, min: MIB });
/** WARREN_RESULT_STORE_BYTES: the default, and the least (a store smaller than one result's worth keeps little but the newest). */
export const RESULT_STORE_BYTES = Object.freeze({ default: 256 * MIB, min: MIB });

/** pino's levels. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const SERVICE = ["serve", "worker"] as const;
/** The commands that open the sandbox host: its launcher, cgroup root and data dir. */
const SANDBOX = ["serve", "worker", "run", "image", "doctor"] as const;
/** The commands that find the data dir. */
const DATA_DIR = ["serve", "worker", "run", "languages", "image", "doctor"] as const;

/**
 * Every environment variable Warren reads, in the order of README.md's
 * configuration table; the system's own (HOME, USER, …) last. Nothing else
 * in Warren reads the environment (test/config/env-reads.test.ts): the
 * command parses it once at start (settings.ts) and hands the typed values down.
 * (Node's os.tmpdir() reads TMPDIR by itself: the last place of the data dir.)
 */
export const VARIABLES = {
  PORT: {
    schema: integer("PORT", 1, 65535).default(8080).describe("HTTP port of `warren serve` (`--port` wins)"),
    default: "8080",
    commands: ["serve"],
  },
  WARREN_HOST: {
    schema: text().describe("address `warren serve` listens on (`--host` wins; docs/service.md, *Who can reach the API*)"),
    default: "127.0.0.1; 0.0.0.0 when `WARREN_API_KEYS` is set",
    commands: ["serve"],
  },
  REDIS_URL: {
    schema: z
      .string()
      .url({ message: "REDIS_URL must be a URL such as redis://127.0.0.1:6379" })
      .optional()
      .describe("distributed mode: BullMQ on this Redis"),
    default: "unset: in-process queue",
    commands: SERVICE,
    secret: true,
  },
  WARREN_QUEUE: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "WARREN_QUEUE must be 1-64 letters, digits, _ or -" })
      .default("warren")
      .describe("queue name and Redis key prefix (the same on the API and every worker)"),
    default: "warren",
    commands: SERVICE,
  },
  WARREN_DATA_DIR: {
    schema: text().describe("images and state"),
    default: "`/var/lib/warren` (root), `~/.local/share/warren`, else `$TMPDIR/warren-UID`",
    commands: DATA_DIR,
  },
  WARREN_CGROUP_ROOT: {
    schema: text().describe("the delegated cgroup subtree: v2 an absolute path, v1 a path inside each hierarchy"),
    default: "v2 `/sys/fs/cgroup/warren`, or where that does not exist this process's own cgroup when it is delegated to it (taken over); v1 `/warren`",
    commands: [...SANDBOX, "setup-cgroups"],
  },
  WARREN_API_KEYS: {
    schema: list().describe("comma-separated keys; every `/v1` call then needs `Authorization: Bearer KEY`"),
    default: "unset: open (and `warren serve` on 127.0.0.1)",
    commands: ["serve"],
    secret: true,
  },
  WARREN_RATE_LIMIT: {
    schema: integer("WARREN_RATE_LIMIT", 0)
      .default(600)
      .describe("requests per minute per key (0: off); counted in Redis in distributed mode, so the limit holds across API instances"),
    default: "600",
    commands: ["serve"],
  },
  WARREN_MAX_BODY_BYTES: {
    schema: integer("WARREN_MAX_BODY_BYTES", 1024)
      .default(32 * MIB)
      .describe("request body limit (413 past it; docs/service.md, *Bodies answered before they are read*)"),
    default: "33554432 (32 MiB)",
    commands: ["serve"],
  },
  WARREN_CALLBACK_ALLOW: {
    schema: list().describe(
      "CIDRs that callbacks may reach besides public addresses, e.g. `10.1.0.0/16` or `127.0.0.0/8,::1/128`; set it on the API and on every worker (docs/service.md, *Callbacks*)",
    ),
    default: "unset: public addresses only",
    commands: SERVICE,
  },
  WARREN_COMPAT: {
    schema: list()
      .pipe(z.array(z.enum(["judge0", "piston"], { message: "WARREN_COMPAT takes judge0 and piston, comma-separated" })).readonly())
      .describe("compatible APIs served beside `/v1`: `judge0` (Judge0 CE at `/judge0`), `piston` (Piston v2 at `/piston`), comma-separated (docs/compat.md)"),
    default: "unset: none",
    commands: ["serve"],
  },
  WARREN_WAIT_MS: {
    schema: integer("WARREN_WAIT_MS", 0, 600_000).default(30_000).describe("longest `?wait=true` wait"),
    default: "30000",
    commands: ["serve"],
  },
  WARREN_CONCURRENCY: {
    schema: integer("WARREN_CONCURRENCY", 1).optional().describe("sandboxes per worker"),
    default: "number of cores",
    commands: SERVICE,
  },
  WARREN_POOL_SIZE: {
    schema: integer("WARREN_POOL_SIZE", 0, 64).default(2).describe("ready containers kept per image and size (`serve`, `worker`; at most 64); 0 turns the warm pool off"),
    default: "2",
    commands: SERVICE,
  },
  WARREN_LAUNCHER: {
    schema: text().describe("another `warren-launch` binary"),
    default: "the one built in the package",
    commands: SANDBOX,
  },
  WARREN_NODE_SPAWN: {
    schema: flag("WARREN_NODE_SPAWN").describe(
      "`1`: start launchers with Node's `child_process.spawn` instead of `posix_spawn` through koffi (slower: a fork of the whole Node process per container)",
    ),
    default: "unset: `posix_spawn`",
    commands: ["serve", "worker", "run", "image"],
  },
  WARREN_BIND_PROC: {
    schema: flag("WARREN_BIND_PROC").describe(
      "`1`: inside a container whose runtime masks /proc (no fresh procfs can be mounted), sandboxes get the container's own /proc, bound, with Warren's masks on top; it shows them the container's processes (SECURITY.md, *Inside a container*), and functions then run without zygotes. Prefer the runtime's option that unmasks /proc (docs/service.md, *Running Warren in a container*)",
    ),
    default: "unset: a fresh procfs, or the run refuses naming the options",
    commands: ["serve", "worker", "run", "doctor"],
  },
  WARREN_RESULT_TTL_S: {
    schema: integer("WARREN_RESULT_TTL_S", 1).default(86_400).describe("how long results are kept, in seconds"),
    default: "86400",
    commands: SERVICE,
  },
  WARREN_RESULT_MAX: {
    schema: integer("WARREN_RESULT_MAX", 1).default(10_000).describe("embedded: most results kept"),
    default: "10000",
    commands: SERVICE,
  },
  WARREN_RESULT_MAX_BYTES: {
    schema: integer("WARREN_RESULT_MAX_BYTES", 0, RESULT_MAX_BYTES.max)
      .default(RESULT_MAX_BYTES.default)
      .describe(
        "output bytes (stdout and stderr) one result keeps, across its compile stage, run and tests together (at most 67108864, 64 MiB); tests are still judged on their whole output, and what is dropped is reported in `outputOmitted` (docs/api-extensions.md)",
      ),
    default: "16777216 (16 MiB)",
    commands: [...SERVICE, "run"],
  },
  WARREN_RESULT_STORE_BYTES: {
    schema: integer("WARREN_RESULT_STORE_BYTES", RESULT_STORE_BYTES.min)
      .default(RESULT_STORE_BYTES.default)
      .describe("bytes of finished results (their JSON) kept, in memory (embedded) or in Redis; the oldest go first"),
    default: "268435456 (256 MiB)",
    commands: SERVICE,
  },
  WARREN_FUNCTION_MAX_BYTES: {
    schema: integer("WARREN_FUNCTION_MAX_BYTES", 1024)
      .default(64 * MIB)
      .describe("bytes one deployed function keeps, all its versions (code, build, metadata) together; a deploy past it is a 413 (docs/api-extensions.md, *Functions*)"),
    default: "67108864 (64 MiB)",
    commands: SERVICE,
  },
  WARREN_FUNCTION_STORE_BYTES: {
    schema: integer("WARREN_FUNCTION_STORE_BYTES", 1024)
      .default(256 * MIB)
      .describe("bytes of every deployed function together, in memory (embedded) or in Redis; a deploy past it is a 507"),
    default: "268435456 (256 MiB)",
    commands: SERVICE,
  },
  WARREN_FUNCTION_ZYGOTES: {
    schema: integer("WARREN_FUNCTION_ZYGOTES", 0, 64)
      .default(4)
      .describe("zygotes per Python function version (and Node.js, with WARREN_FUNCTION_NODE_ZYGOTES), each serving one invocation at a time (docs/functions.md, *The zygote*; SECURITY.md); 0: every invocation gets a container of its own"),
    default: "4",
    commands: SERVICE,
  },
  WARREN_FUNCTION_NODE_ZYGOTES: {
    schema: flag("WARREN_FUNCTION_NODE_ZYGOTES").describe(
      "`1`: Node.js handlers get zygotes too (docs/functions.md, *A Node.js zygote*): no invocation starts cold once a version has one, and some 5× the sustained rate of prepared containers, but each child is forked after its event comes (some 10 ms on a 2-core VM, against about 1.5 ms for a prepared container that is ready)",
    ),
    default: "unset: Node.js handlers get prepared containers",
    commands: SERVICE,
  },
  WARREN_PENDING_MAX_BYTES: {
    schema: integer("WARREN_PENDING_MAX_BYTES", PENDING_MAX_BYTES.min)
      .default(PENDING_MAX_BYTES.default)
      .describe("bytes of run requests held before a worker takes them (bodies being read; embedded, the waiting runs); past it 503 with `Retry-After`"),
    default: "268435456 (256 MiB)",
    commands: SERVICE,
  },
  WARREN_JOB_ATTEMPTS: {
    schema: integer("WARREN_JOB_ATTEMPTS", 1).default(3).describe("tries of a job that Warren itself failed (never for a user's verdict)"),
    default: "3",
    commands: SERVICE,
  },
  WARREN_RETRY_BACKOFF_MS: {
    schema: integer("WARREN_RETRY_BACKOFF_MS", 0).default(1_000).describe("first retry delay (doubles on each retry)"),
    default: "1000",
    commands: SERVICE,
  },
  WARREN_LOCK_DURATION_MS: {
    schema: integer("WARREN_LOCK_DURATION_MS", 1_000).default(30_000).describe("BullMQ job lock: a dead worker's job is taken over after about this long"),
    default: "30000",
    commands: SERVICE,
  },
  WARREN_STALLED_INTERVAL_MS: {
    schema: integer("WARREN_STALLED_INTERVAL_MS", 1_000).default(30_000).describe("how often workers look for stalled jobs"),
    default: "30000",
    commands: SERVICE,
  },
  WARREN_MAX_STALLED: {
    schema: integer("WARREN_MAX_STALLED", 1).default(2).describe("stalls before a job fails"),
    default: "2",
    commands: SERVICE,
  },
  WARREN_SHUTDOWN_MS: {
    schema: integer("WARREN_SHUTDOWN_MS", 0).default(30_000).describe("`warren worker`: how long SIGTERM waits for running jobs before handing them back (`warren serve`: 30 s)"),
    default: "30000",
    commands: ["worker"],
  },
  WARREN_METRICS_PORT: {
    schema: integer("WARREN_METRICS_PORT", 0, 65535)
      .optional()
      .describe("`warren worker` serves its own `/metrics` and `/healthz` on this port (runs, durations, active sandboxes happen in the workers)"),
    default: "unset: none",
    commands: ["worker"],
  },
  WARREN_METRICS_HOST: {
    schema: z.string().default("127.0.0.1").describe("address of `warren worker`'s metrics server"),
    default: "127.0.0.1",
    commands: ["worker"],
  },
  WARREN_LOG_LEVEL: {
    schema: z
      .enum(LOG_LEVELS, { message: `WARREN_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` })
      .default("info")
      .describe("pino level; logs are JSON on stderr, `runId` on every run line"),
    default: "info",
    commands: SERVICE,
  },
  WARREN_PHASE_TIMINGS: {
    schema: flag("WARREN_PHASE_TIMINGS").describe(
      "`1`: a debugging aid; the API and the worker each write one JSON line per run to stderr with the times of its phases (received, validated, queued, started, container ready, each exec, result, answered, torn down); a sync function invocation's: the API's received, resolved, read, queued, finished, the worker's started, fetched, zygote taken or warm container taken (cold container), event written, responded, usage read or child ended, invoked (`bench/functions-api-ab.ts` with `BENCH_PHASES=1` prints their medians)",
    ),
    default: "unset: off",
    commands: SERVICE,
  },
  WARREN_REGISTRY_AUTH: {
    schema: text().describe("the registry credentials file of `warren image pull`, `{\"auths\":{\"HOST\":{\"auth\":\"base64(user:password)\"}}}` (docs/images.md)"),
    default: "`$XDG_CONFIG_HOME/warren/auth.json` (`~/.config/warren/auth.json`)",
    commands: ["image"],
  },
  WARREN_DEBIAN_MIRROR: {
    schema: text().describe("the Debian mirror of `warren image build` (`--mirror` wins)"),
    default: "the one this machine's apt uses for the suite, else `http://deb.debian.org/debian`",
    commands: ["image"],
  },
  WARREN_URL: {
    schema: z.string().url({ message: "WARREN_URL must be a URL such as http://127.0.0.1:8080" }).default("http://127.0.0.1:8080").describe("the server `warren fn` talks to (`--url` wins); its key is `WARREN_API_KEY`"),
    default: "http://127.0.0.1:8080",
    commands: ["fn"],
  },
  WARREN_API_KEY: {
    schema: text().describe("the API key `warren fn` and `warren run --server` send (`Authorization: Bearer`)"),
    default: "unset: none sent",
    commands: ["fn", "run"],
    secret: true,
  },

  HOME: {
    schema: z.string().default(() => os.homedir()).describe("the user's home: the data dir and the registry credentials file are found below it"),
    default: "the user's home in the password database",
    commands: DATA_DIR,
    system: true,
  },
  XDG_DATA_HOME: {
    schema: text().describe("where a user's data dir goes (`$XDG_DATA_HOME/warren`)"),
    default: "`~/.local/share`",
    commands: DATA_DIR,
    system: true,
  },
  XDG_CONFIG_HOME: {
    schema: text().describe("where the registry credentials file is looked for (`$XDG_CONFIG_HOME/warren/auth.json`)"),
    default: "`~/.config`",
    commands: ["image"],
    system: true,
  },
  SUDO_USER: {
    schema: text().describe("the user who ran `sudo warren …`: the one the `setup-cgroups` fix names"),
    default: "unset",
    commands: SANDBOX,
    system: true,
  },
  USER: {
    schema: text().describe("the user the `setup-cgroups` fix names when not run with sudo"),
    default: "unset: the fix says `$USER`",
    commands: SANDBOX,
    system: true,
  },
  container: {
    schema: text().describe("set by podman, systemd-nspawn and others to the runtime's name: one of the signs `warren doctor` takes for running in a container"),
    default: "unset",
    commands: ["doctor"],
    system: true,
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Each variable's typed value. */
export type VariableValues = { readonly [K in VariableName]: z.output<(typeof VARIABLES)[K]["schema"]> };
