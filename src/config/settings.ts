import type { LOG_LEVELS } from "./variables.js";

/** An environment: process.env at the command's start, or a test's own. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** `warren serve`'s listener. */
export interface ServeSettings {
  /** PORT (`--port` wins). @defaultValue 8080 */
  readonly port: number;
  /** WARREN_HOST (`--host` wins); undefined: 127.0.0.1, or 0.0.0.0 when API keys are set. */
  readonly host: string | undefined;
}

/** The API's own settings (src/api/options.ts adds what it learns at start). */
export interface ApiSettings {
  /** WARREN_API_KEYS; empty: no auth. */
  readonly apiKeys: readonly string[];
  /** WARREN_RATE_LIMIT: requests per minute per key; 0 turns it off. @defaultValue 600 */
  readonly rateLimitPerMinute: number;
  /** WARREN_MAX_BODY_BYTES. @defaultValue 32 MiB */
  readonly bodyLimitBytes: number;
  /** WARREN_WAIT_MS: how long `?wait=true` waits. @defaultValue 30 s */
  readonly waitMs: number;
  /** WARREN_COMPAT: the compatible APIs served beside /v1 (docs/compat.md). @defaultValue none */
  readonly compat: readonly ("judge0" | "piston")[];
}

/** The queue and its result store (docs/service.md). */
export interface QueueSettings {
  /** REDIS_URL: distributed mode when set. */
  readonly redisUrl: string | undefined;
  /** WARREN_CONCURRENCY: sandboxes per worker. @defaultValue the number of cores */
  readonly concurrency: number;
  /** WARREN_QUEUE: the queue's name and Redis key prefix. @defaultValue "warren" */
  readonly name: string;
  /** WARREN_RESULT_TTL_S. @defaultValue 86400 */
  readonly resultTtlSeconds: number;
  /** WARREN_RESULT_MAX: embedded, the most results kept. @defaultValue 10000 */
  readonly resultMax: number;
  /** WARREN_RESULT_MAX_BYTES: the output budget of one RunResult. @defaultValue 16 MiB */
  readonly resultMaxBytes: number;
  /** WARREN_PENDING_MAX_BYTES: request bytes held before a worker takes them. @defaultValue 256 MiB */
  readonly pendingMaxBytes: number;
  /** WARREN_RESULT_STORE_BYTES: the JSON bytes of the finished results kept. @defaultValue 256 MiB */
  readonly resultStoreBytes: number;
  /** WARREN_FUNCTION_MAX_BYTES: one function's versions. @defaultValue 64 MiB */
  readonly functionMaxBytes?: number;
  /** WARREN_FUNCTION_STORE_BYTES: every function's. @defaultValue 256 MiB */
  readonly functionStoreBytes?: number;
  /** WARREN_JOB_ATTEMPTS. @defaultValue 3 */
  readonly attempts: number;
  /** WARREN_RETRY_BACKOFF_MS. @defaultValue 1000 */
  readonly backoffMs: number;
  /** WARREN_LOCK_DURATION_MS. @defaultValue 30000 */
  readonly lockDurationMs: number;
  /** WARREN_STALLED_INTERVAL_MS. @defaultValue 30000 */
  readonly stalledIntervalMs: number;
  /** WARREN_MAX_STALLED. @defaultValue 2 */
  readonly maxStalled: number;
}

/** Where callbacks may go besides public addresses. */
export interface CallbackSettings {
  /** WARREN_CALLBACK_ALLOW's entries, as written: src/callback/callback-policy.ts reads them as CIDRs. */
  readonly allow: readonly string[];
}

/** `warren worker`'s own. */
export interface WorkerSettings {
  /** WARREN_SHUTDOWN_MS: how long SIGTERM waits for running jobs. @defaultValue 30000 */
  readonly shutdownMs: number;
  /** WARREN_METRICS_PORT: the worker's own /metrics; undefined: none. */
  readonly metricsPort: number | undefined;
  /** WARREN_METRICS_HOST. @defaultValue "127.0.0.1" */
  readonly metricsHost: string;
  /** WARREN_FUNCTION_ZYGOTES: zygotes per Python function version (and Node.js, with functionNodeZygotes); 0: none. @defaultValue 4 */
  readonly functionZygotes: number;
  /** WARREN_FUNCTION_NODE_ZYGOTES: whether Node.js handlers get zygotes too. @defaultValue false */
  readonly functionNodeZygotes: boolean;
}

/** What the data dir is found from (data-dir.ts). */
export interface DataDirSettings {
  /** WARREN_DATA_DIR; undefined: found from the user (data-dir.ts). */
  readonly explicit: string | undefined;
  /** HOME. */
  readonly home: string;
  /** XDG_DATA_HOME. */
  readonly xdgDataHome: string | undefined;
}

/** What the sandbox host is opened from (src/sandbox/sandbox-host.ts). */
export interface SandboxSettings {
  readonly dataDir: DataDirSettings;
  /** WARREN_CGROUP_ROOT; undefined: the cgroup driver's default. */
  readonly cgroupRoot: string | undefined;
  /** WARREN_LAUNCHER; undefined: the one built in the package. */
  readonly launcher: string | undefined;
  /** WARREN_POOL_SIZE: ready containers per kind in a server or worker; 0: no pool. @defaultValue 2 */
  readonly poolSize: number;
  /** WARREN_NODE_SPAWN: launchers started with child_process.spawn, not posix_spawn. @defaultValue false */
  readonly nodeSpawn: boolean;
  /** WARREN_BIND_PROC: sandboxes get the launcher's own /proc, bound (`--bind-proc`), not a fresh procfs. @defaultValue false */
  readonly bindProc: boolean;
  /** The `container` variable a runtime sets (podman: `podman`, systemd-nspawn: `systemd-nspawn`): `warren doctor` reads it as a sign of a container. */
  readonly containerEnv: string | undefined;
  /** Whom the `setup-cgroups` fix names: SUDO_USER, else USER, else `$USER`. */
  readonly setupUser: string;
}

/** `warren image …`. */
export interface ImageSettings {
  /** The registry credentials file: WARREN_REGISTRY_AUTH, else `$XDG_CONFIG_HOME/warren/auth.json` (`~/.config/warren/auth.json`). */
  readonly registryAuthFile: string;
  /** WARREN_DEBIAN_MIRROR; undefined: the one this machine's apt uses (build/debian-mirror.ts). */
  readonly debianMirror: string | undefined;
}

export interface TelemetrySettings {
  /** WARREN_LOG_LEVEL. @defaultValue "info" */
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** WARREN_PHASE_TIMINGS. @defaultValue false */
  readonly phaseTimings: boolean;
}

/** Every setting, typed and frozen: what a command hands down to the layers it opens. */
/** `warren fn`: the server it talks to. */
export interface ClientSettings {
  /** WARREN_URL (`--url` wins). @defaultValue http://127.0.0.1:8080 */
  readonly url: string;
  /** WARREN_API_KEY: sent as `Authorization: Bearer`; undefined: none. */
  readonly apiKey: string | undefined;
}

export interface Settings {
  readonly serve: ServeSettings;
  readonly client: ClientSettings;
  readonly api: ApiSettings;
  readonly queue: QueueSettings;
  readonly callback: CallbackSettings;
  readonly worker: WorkerSettings;
  readonly sandbox: SandboxSettings;
  readonly images: ImageSettings;
  readonly telemetry: TelemetrySettings;
}
