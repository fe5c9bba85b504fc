/** Taken once: reading process.env entry by entry costs ~0.1 ms, and a worker spawns a launcher per job. */
let inherited: readonly string[] | undefined;

/**
 * The environment a launcher inherits, as `KEY=VALUE` (posix_spawn's envp):
 * this process's, as child_process.spawn passes it by default, as it was at
 * the first call (a command reads its environment once, at its start, and
 * never changes it). It is not read for settings (those are parsed once:
 * load-settings.ts), and the launcher passes none of it on: a program's
 * environment starts empty (SECURITY.md).
 */
export function inheritedEnvironment(): readonly string[] {
  inherited ??= Object.freeze(Object.entries(process.env).map(([key, value]) => `${key}=${value ?? ""}`));
  return inherited;
}
