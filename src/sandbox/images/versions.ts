import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { LanguageRecipe } from "./schema.js";

/** Finds `command` in `PATH` like execvp; undefined when it is not there. */
export function which(command: string, searchPath: string): string | undefined {
  if (command.includes("/")) return fs.existsSync(command) ? command : undefined;
  for (const dir of searchPath.split(":")) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

type Cache = Record<string, { key: string; version: string }>;

/**
 * Detects each language's version by running its version command on the host
 * with the image's PATH (the host image runs the very same binaries). Results
 * are cached in `cacheFile`, keyed by the binary's path and mtime, so a
 * package upgrade is noticed. "unknown" when the command is missing or says nothing usable.
 * A stored image's versions are detected inside it instead (container-versions.ts).
 */
export function detectVersionsOnHost(languages: readonly LanguageRecipe[], searchPath: string, cacheFile: string): Map<string, string> {
  let cache: Cache = {};
  try {
    cache = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as Cache;
  } catch {
    // no cache yet
  }
  const versions = new Map<string, string>();
  let changed = false;
  for (const language of languages) {
    const how = language.version;
    if ("fixed" in how) {
      versions.set(language.id, how.fixed);
      continue;
    }
    const [command, ...args] = how.command as [string, ...string[]];
    const binary = which(command, searchPath);
    if (binary === undefined) {
      versions.set(language.id, "unknown");
      continue;
    }
    const real = fs.realpathSync(binary);
    const key = `${real}:${fs.statSync(real).mtimeMs}:${how.command.join(" ")}`;
    const cached = cache[language.id];
    if (cached?.key === key) {
      versions.set(language.id, cached.version);
      continue;
    }
    const result = spawnSync(binary, args, { encoding: "utf8", timeout: 10_000, env: { PATH: searchPath, LANG: "C" } });
    const version = versionIn(`${result.stdout ?? ""}\n${result.stderr ?? ""}`, how.pattern);
    versions.set(language.id, version);
    cache[language.id] = { key, version };
    changed = true;
  }
  if (changed) {
    try {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      const temp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(temp, JSON.stringify(cache, null, 2));
      fs.renameSync(temp, cacheFile);
    } catch {
      // a cache we cannot write only costs time
    }
  }
  return versions;
}

/** The first group of `pattern` in a version command's output; "unknown" when it does not match. */
export function versionIn(output: string, pattern: string): string {
  return new RegExp(pattern).exec(output)?.[1] ?? "unknown";
}
