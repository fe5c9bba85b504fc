import os from "node:os";
import path from "node:path";
import type { RunRequestInput } from "../../src/api/schemas.js";
import { openSandbox, type SandboxEnvironment } from "../../src/sandbox/environment.js";
import { jobSpecFromBody } from "../../src/worker/job-spec.js";
import type { RunResult } from "../../src/worker/run-result.js";
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

let opened: Promise<SandboxEnvironment> | undefined;

export function sandbox(): Promise<SandboxEnvironment> {
  opened ??= openSandbox({ env: testEnv() });
  return opened;
}

/** Runs one job through the real pipeline. */
export async function run(body: RunRequestInput): Promise<RunResult> {
  const env = await sandbox();
  return runJob(jobSpecFromBody(body, { languages: env.image.languages }), env);
}

/** A one-file job body. */
export function job(language: string, path: string, content: string, extra: Partial<RunRequestInput> = {}): RunRequestInput {
  return { language, files: [{ path, content }], ...extra };
}
