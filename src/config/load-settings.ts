import os from "node:os";
import path from "node:path";
import { InvalidRequestError } from "../errors.js";
import type { Environment, Settings } from "./settings.js";
import type { Command, Variable } from "./variable.js";
import { VARIABLES, type VariableName, type VariableValues } from "./variables.js";

/**
 * The settings of `env`, parsed once. With a `command`, only the variables it
 * reads are checked and used (VARIABLES' `commands`); the others keep their
 * defaults. Without one, every variable is. A bad value throws
 * InvalidRequestError naming each bad variable and what it was given.
 */
export function loadSettings(env: Environment, command?: Command): Settings {
  const e = parseVariables(env, command);
  const setupUser = e.SUDO_USER ?? e.USER ?? "$USER";
  return deepFreeze({
    serve: { port: e.PORT, host: e.WARREN_HOST },
    client: { url: e.WARREN_URL, apiKey: e.WARREN_API_KEY },
    api: { apiKeys: e.WARREN_API_KEYS, rateLimitPerMinute: e.WARREN_RATE_LIMIT, bodyLimitBytes: e.WARREN_MAX_BODY_BYTES, waitMs: e.WARREN_WAIT_MS, compat: e.WARREN_COMPAT },
    queue: {
      redisUrl: e.REDIS_URL,
      concurrency: e.WARREN_CONCURRENCY ?? os.availableParallelism(),
      name: e.WARREN_QUEUE,
      resultTtlSeconds: e.WARREN_RESULT_TTL_S,
      resultMax: e.WARREN_RESULT_MAX,
      resultMaxBytes: e.WARREN_RESULT_MAX_BYTES,
      pendingMaxBytes: e.WARREN_PENDING_MAX_BYTES,
      resultStoreBytes: e.WARREN_RESULT_STORE_BYTES,
      functionMaxBytes: e.WARREN_FUNCTION_MAX_BYTES,
      functionStoreBytes: e.WARREN_FUNCTION_STORE_BYTES,
      attempts: e.WARREN_JOB_ATTEMPTS,
      backoffMs: e.WARREN_RETRY_BACKOFF_MS,
      lockDurationMs: e.WARREN_LOCK_DURATION_MS,
      stalledIntervalMs: e.WARREN_STALLED_INTERVAL_MS,
      maxStalled: e.WARREN_MAX_STALLED,
    },
    callback: { allow: e.WARREN_CALLBACK_ALLOW },
    worker: { shutdownMs: e.WARREN_SHUTDOWN_MS, metricsPort: e.WARREN_METRICS_PORT, metricsHost: e.WARREN_METRICS_HOST, functionZygotes: e.WARREN_FUNCTION_ZYGOTES, functionNodeZygotes: e.WARREN_FUNCTION_NODE_ZYGOTES },
    sandbox: {
      dataDir: { explicit: e.WARREN_DATA_DIR, home: e.HOME, xdgDataHome: e.XDG_DATA_HOME },
      cgroupRoot: e.WARREN_CGROUP_ROOT,
      launcher: e.WARREN_LAUNCHER,
      poolSize: e.WARREN_POOL_SIZE,
      nodeSpawn: e.WARREN_NODE_SPAWN,
      bindProc: e.WARREN_BIND_PROC,
      containerEnv: e.container,
      setupUser,
    },
    images: {
      registryAuthFile: e.WARREN_REGISTRY_AUTH ?? path.join(e.XDG_CONFIG_HOME ?? path.join(e.HOME, ".config"), "warren", "auth.json"),
      debianMirror: e.WARREN_DEBIAN_MIRROR,
    },
    telemetry: { logLevel: e.WARREN_LOG_LEVEL, phaseTimings: e.WARREN_PHASE_TIMINGS },
  });
}

/** Each variable's value: unset and empty are alike (the default). */
function parseVariables(env: Environment, command: Command | undefined): VariableValues {
  const values: Partial<Record<VariableName, unknown>> = {};
  const problems: string[] = [];
  const details: { variable: VariableName; message: string }[] = [];
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, Variable][]) {
    const given = env[name];
    const read = command === undefined || variable.commands.includes(command);
    const parsed = variable.schema.safeParse(read && given !== "" ? given : undefined);
    if (parsed.success) {
      values[name] = parsed.data;
      continue;
    }
    const message = parsed.error.issues[0]?.message ?? `${name} is not valid`;
    problems.push(variable.secret === true ? `${message} (its value is not repeated here: it may hold a password).` : `${message}, got ${JSON.stringify(given)}.`);
    details.push({ variable: name, message });
  }
  if (problems.length > 0) throw new InvalidRequestError(problems.join("\n"), details);
  return values as VariableValues;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === "object" && inner !== null && !Object.isFrozen(inner)) deepFreeze(inner);
  return Object.freeze(value);
}
