/**
 * The environment a launcher inherits, as `KEY=VALUE` (posix_spawn's envp):
 * this process's, as child_process.spawn passes it by default. It is not
 * read for settings (those are parsed once: load-settings.ts), and the
 * launcher passes none of it on: a program's environment starts empty
 * (SECURITY.md).
 */
export function inheritedEnvironment(): string[] {
  return Object.entries(process.env).map(([key, value]) => `${key}=${value ?? ""}`);
}
