/** The limits of one stage, as in API.md `limits`. */
export interface Limits {
  readonly wallTimeMs: number;
  readonly cpuTimeMs: number;
  readonly memoryMb: number;
  /** Processes and threads together. */
  readonly processes: number;
  /** stdout and stderr together. */
  readonly outputKb: number;
  /** Scratch disk: the size of the container's writable layer. */
  readonly diskMb: number;
  readonly openFiles: number;
  /**
   * CPU bandwidth: at most this many CPUs' worth of CPU time per wall-clock
   * period (the cgroup's CPU quota), so that one job cannot take every core
   * for its wall limit. Fractions are allowed (0.5: half a core).
   */
  readonly cpus: number;
  /** Loopback only either way for now: the server maximum is `false`. */
  readonly network: boolean;
}

/** Defaults of a run stage. */
export const DEFAULT_RUN_LIMITS: Limits = Object.freeze({
  wallTimeMs: 5_000,
  cpuTimeMs: 3_000,
  memoryMb: 256,
  processes: 64,
  outputKb: 1_024,
  diskMb: 64,
  openFiles: 256,
  cpus: 1,
  network: false,
});

/** Defaults of a compile stage: compilers need more than the programs they build. */
export const DEFAULT_COMPILE_LIMITS: Limits = Object.freeze({
  wallTimeMs: 20_000,
  cpuTimeMs: 15_000,
  memoryMb: 512,
  processes: 128,
  outputKb: 1_024,
  diskMb: 128,
  openFiles: 256,
  cpus: 1,
  network: false,
});

/** The server maxima: a request above any of them is refused with 400. */
export const MAX_LIMITS: Limits = Object.freeze({
  wallTimeMs: 60_000,
  cpuTimeMs: 30_000,
  memoryMb: 2_048,
  processes: 256,
  outputKb: 65_536,
  diskMb: 1_024,
  openFiles: 4_096,
  cpus: 16,
  network: false,
});

const MIB = 1024 * 1024;

/**
 * WARREN_RESULT_MAX_BYTES: its default, and its largest value. A result's
 * JSON is at most about 6× its output bytes (a control character is
 * escaped as \u00XX) and must fit in one Redis value (512 MB by default):
 * 64 MiB of output stays under that.
 */
export const RESULT_MAX_BYTES = Object.freeze({ default: 16 * MIB, max: 64 * MIB });
