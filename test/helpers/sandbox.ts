import os from "node:os";
import path from "node:path";
import { loadSettings } from "../../src/config/load-settings.js";
import type { Environment, Settings } from "../../src/config/settings.js";
import type { RunRequestInput } from "../../src/run/request.js";
import { openSandboxHost, type OpenedSandboxHost } from "../../src/sandbox/sandbox-host.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, MAX_LIMITS } from "../../src/run/limits.js";
import type { RunResult } from "../../src/run/result.js";
import { runJob } from "../../src/worker/run-job.js";

/**
 * The environment the integration tests run in: the real launcher, the real
 * cgroup root (WARREN_CGROUP_ROOT or the driver's default), and a data dir of
 * WARREN_DATA_DIR or a per-uid temp dir.
 */
export function testEnv(): NodeJS.ProcessEnv {
  const uid = process.getuid?.() ?? 0;
  return { ...process.env, WARREN_DATA_DIR: process.env.WARREN_DATA_DIR ?? path.join(os.tmpdir(), `warren-test-data-${uid}`) };
}

/** The settings of testEnv() (with `extra` variables), as a command parses them. */
export function testSettings(extra: Environment = {}): Settings {
  return loadSettings({ ...testEnv(), ...extra });
}

let opened: Promise<OpenedSandboxHost> | undefined;

export function sandbox(): Promise<OpenedSandboxHost> {
  opened ??= openSandboxHost(testSettings().sandbox);
  return opened;
}

/** Runs one job through the real pipeline. */
export async function run(body: RunRequestInput): Promise<RunResult> {
  const env = await sandbox();
  return runJob(jobSpecFromBody(body, { languages: env.image.languages }), env);
}

/**
 * How much slower this machine is than the one the default time limits were
 * chosen for: the cgroup v2 VM runs under software emulation and sets
 * WARREN_TEST_TIME_SCALE=10. Only default time limits are scaled; a limit a
 * test sets on purpose is kept, so a test that expects a time limit still hits it.
 */
export const TIME_SCALE = Math.max(1, Number(process.env.WARREN_TEST_TIME_SCALE ?? 1) || 1);

const scaled = (limits: { wallTimeMs: number; cpuTimeMs: number }) => ({
  wallTimeMs: Math.min(MAX_LIMITS.wallTimeMs, limits.wallTimeMs * TIME_SCALE),
  cpuTimeMs: Math.min(MAX_LIMITS.cpuTimeMs, limits.cpuTimeMs * TIME_SCALE),
});

/** A one-file job body. */
export function job(language: string, path: string, content: string, extra: Partial<RunRequestInput> = {}): RunRequestInput {
  const body: RunRequestInput = { language, files: [{ path, content }], ...extra };
  if (TIME_SCALE === 1) return body;
  return {
    ...body,
    limits: { ...scaled(DEFAULT_RUN_LIMITS), ...body.limits },
    compileLimits: { ...scaled(DEFAULT_COMPILE_LIMITS), ...body.compileLimits },
  };
}
