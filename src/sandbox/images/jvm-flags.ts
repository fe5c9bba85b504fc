/**
 * JVM flags sized from a stage's memory limit, so that a JVM fits in a small
 * cgroup (256 MB and up) instead of sizing itself from the host's RAM and
 * being OOM-killed. The cgroup counts heap, metaspace, code cache, thread
 * stacks, GC structures and the JVM's own native memory, so the heap gets
 * about half and the rest is capped.
 */
export function jvmFlags(memoryMb: number): string[] {
  const heap = Math.max(16, Math.floor(memoryMb / 2));
  const metaspace = clamp(Math.floor(memoryMb / 8), 24, 256);
  const codeCache = clamp(Math.floor(memoryMb / 16), 8, 64);
  const stack = clamp(Math.floor(memoryMb / 8), 4, 64);
  return [
    `-Xmx${heap}m`,
    `-Xss${stack}m`,
    `-XX:MaxMetaspaceSize=${metaspace}m`,
    `-XX:ReservedCodeCacheSize=${codeCache}m`,
    // One GC thread instead of one per core: less memory, fewer pids.
    "-XX:+UseSerialGC",
    // Sizes thread pools (compiler, common pool) for one CPU: fewer threads under the pids limit.
    "-XX:ActiveProcessorCount=1",
    // No /tmp/hsperfdata_* mmap file: nothing written outside the work dir.
    "-XX:-UsePerfData",
  ];
}

/** Flags for javac: the JVM flags passed through `-J`, plus C1 only (javac is short-lived). */
export function javacFlags(memoryMb: number): string[] {
  return [...jvmFlags(memoryMb), "-XX:TieredStopAtLevel=1"].map((flag) => `-J${flag}`);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
