import semver from "semver";
import type { LanguageEntry } from "../../../run/select-language.js";
import { compareVersions } from "../../../run/select-language.js";

/**
 * Piston's name for a Warren language, the aliases Piston's own packages give
 * it, and the runtime (package) that provides it when Piston's package is
 * named apart from the language (`gcc` provides c and c++, `node` javascript).
 * A language missing here is served under its Warren id and aliases.
 */
interface PistonName {
  readonly language: string;
  readonly aliases: readonly string[];
  readonly runtime?: string;
}

const PISTON_NAMES: Readonly<Record<string, PistonName>> = {
  python: { language: "python", aliases: ["py", "py3", "python3"] },
  javascript: { language: "javascript", aliases: ["node-javascript", "node-js", "javascript", "js"], runtime: "node" },
  typescript: { language: "typescript", aliases: ["ts", "node-ts", "tsc", "typescript5", "ts5"] },
  c: { language: "c", aliases: ["gcc"], runtime: "gcc" },
  cpp: { language: "c++", aliases: ["cpp", "g++"], runtime: "gcc" },
  java: { language: "java", aliases: [] },
  go: { language: "go", aliases: ["go", "golang"] },
  rust: { language: "rust", aliases: ["rs"] },
  bash: { language: "bash", aliases: ["sh"] },
  kotlin: { language: "kotlin", aliases: ["kt"] },
  ruby: { language: "ruby", aliases: ["ruby3", "rb"] },
  php: { language: "php", aliases: [] },
  perl: { language: "perl", aliases: ["pl"] },
  lua: { language: "lua", aliases: [] },
  haskell: { language: "haskell", aliases: ["haskell", "hs"] },
  csharp: { language: "csharp", aliases: ["mono", "mono-csharp", "mono-c#", "mono-cs", "c#", "cs"], runtime: "mono" },
  pascal: { language: "pascal", aliases: ["freepascal", "pp", "pas"] },
  fortran: { language: "fortran", aliases: ["fortran", "f90"], runtime: "gcc" },
  r: { language: "rscript", aliases: ["r"] },
  ocaml: { language: "ocaml", aliases: ["ocaml", "ml"] },
  d: { language: "d", aliases: ["gdc"], runtime: "gcc" },
};

/** One entry of GET /api/v2/runtimes, with the Warren language it runs. */
export interface PistonRuntime<L extends LanguageEntry = LanguageEntry> {
  readonly language: string;
  /** A semver version (Warren's detected version, completed to three parts when it has fewer: "8.6" → "8.6.0"). */
  readonly version: string;
  readonly aliases: readonly string[];
  readonly runtime?: string;
  readonly warren: L;
}

/** A detected version as semver, which Piston's version ranges are matched against. */
function semverOf(detected: string): string {
  // A version with no number at all (never detected so) would match no range but "*".
  return semver.valid(detected) ?? semver.coerce(detected)?.version ?? "0.0.0";
}

/**
 * The runtimes of the installed images, as Piston lists them: one per
 * language and version (the same language and version in two images is one
 * runtime: the image Warren itself would pick, a stored one before the
 * host's), newest version first within a language.
 */
export function pistonRuntimes<L extends LanguageEntry>(languages: readonly L[]): PistonRuntime<L>[] {
  const byKey = new Map<string, PistonRuntime<L>>();
  for (const warren of languages) {
    const name = PISTON_NAMES[warren.id] ?? { language: warren.id, aliases: [] };
    const version = semverOf(warren.version.detected);
    const key = `${name.language}\0${version}`;
    const held = byKey.get(key);
    // A stored image before the host's, as selectLanguage picks on a tie.
    if (held !== undefined && !(held.warren.image === "host" && warren.image !== "host")) continue;
    const aliases = [...new Set([...name.aliases, ...(name.language === warren.id ? [] : [warren.id]), ...warren.aliases.map((alias) => alias.toLowerCase())])].filter(
      (alias) => alias !== name.language || name.aliases.includes(alias),
    );
    byKey.set(key, { language: name.language, version, aliases, ...(name.runtime === undefined ? {} : { runtime: name.runtime }), warren });
  }
  return [...byKey.values()].sort((a, b) => a.language.localeCompare(b.language) || compareVersions(b.version, a.version));
}

/** The newest runtime whose language or an alias is LANGUAGE and whose version satisfies the semver range VERSION ("*", "3.x", "^3.10", "3.11.2"). */
export function findRuntime<L extends LanguageEntry>(runtimes: readonly PistonRuntime<L>[], language: string, version: string): PistonRuntime<L> | undefined {
  const wanted = language.toLowerCase();
  return runtimes
    .filter((runtime) => runtime.language === wanted || runtime.aliases.includes(wanted))
    .filter((runtime) => {
      try {
        return semver.satisfies(runtime.version, version);
      } catch {
        return false;
      }
    })
    .sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

/** GET /api/v2/runtimes's wire form (no Warren fields). */
export function runtimeRow(runtime: PistonRuntime): { language: string; version: string; aliases: string[]; runtime?: string } {
  return { language: runtime.language, version: runtime.version, aliases: [...runtime.aliases], ...(runtime.runtime === undefined ? {} : { runtime: runtime.runtime }) };
}
