import { containerOptions } from "./container/container-options.js";
import { Container } from "./container/container.js";
import type { SandboxHost } from "./sandbox-host.js";

export interface ProbeResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly seconds: number;
}

const OK_FOR_MS = 10_000;
const FAILED_FOR_MS = 2_000;

/**
 * Readiness: really starts a sandbox and runs /bin/true in it, at most once
 * per 10 s (2 s after a failure); concurrent callers share one probe.
 */
export function sandboxProbe(host: SandboxHost, onProbe?: (result: ProbeResult) => void): () => Promise<ProbeResult> {
  let cached: { at: number; result: Promise<ProbeResult> } | undefined;
  return async () => {
    const now = Date.now();
    if (cached !== undefined) {
      const settled = await Promise.race([cached.result, Promise.resolve(undefined)]);
      const fresh = settled === undefined || now - cached.at < (settled.ok ? OK_FOR_MS : FAILED_FOR_MS);
      if (fresh) return cached.result;
    }
    cached = { at: now, result: probe(host).then((result) => (onProbe?.(result), result)) };
    return cached.result;
  };
}

async function probe(host: SandboxHost): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
  let container: Container | undefined;
  try {
    container = await Container.create(containerOptions(host, host.image, { scratchMb: 1 }));
    const result = await container.exec({ argv: ["/bin/true"], env: { ...host.image.env }, limits: { wallTimeMs: 5_000, memoryMb: 64, processes: 8 } });
    if (result.status !== "ok" || result.exitCode !== 0) {
      return { ok: false, reason: `a sandbox ran /bin/true with status ${result.status}${result.error === undefined ? "" : ` (${result.error.step}: ${result.error.message})`}`, seconds: seconds() };
    }
    return { ok: true, seconds: seconds() };
  } catch (error) {
    return { ok: false, reason: `a sandbox cannot start: ${(error as Error).message}`, seconds: seconds() };
  } finally {
    await container?.destroy();
  }
}
