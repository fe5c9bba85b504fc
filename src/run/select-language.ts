import { InvalidRequestError, UnknownLanguageError } from "../errors.js";

/**
 * A language as a request names it: what GET /v1/languages lists of it. The
 * installed images' languages (sandbox/images/languages.ts Language) are
 * these and more; the contract needs no more to pick one.
 */
export interface LanguageEntry {
  readonly id: string;
  readonly name: string;
  readonly aliases: readonly string[];
  /** The image that provides it. */
  readonly image: string;
  readonly version: { readonly detected: string };
}

export interface LanguageChoice {
  /** An id or alias (case-insensitive). */
  readonly language: string;
  /** A version prefix, on component boundaries: "3" and "3.11" match 3.11.2, "3.1" does not. */
  readonly version?: string | undefined;
  /** The image that must provide it. */
  readonly image?: string | undefined;
}

/**
 * Picks one language among those of every installed image (the same id may
 * be in several): by id or alias, then image, then version prefix; of what
 * is left, the newest version, and on a tie a stored image before the host's.
 * Throws UnknownLanguageError or InvalidRequestError saying what exists.
 */
export function selectLanguage<L extends LanguageEntry>(languages: readonly L[], choice: LanguageChoice): L {
  const wanted = choice.language.toLowerCase();
  let candidates = languages.filter((language) => language.id === wanted || language.aliases.some((alias) => alias.toLowerCase() === wanted));
  if (candidates.length === 0) throw new UnknownLanguageError(choice.language, [...new Set(languages.map((language) => language.id))]);
  const name = candidates[0]!.name;
  if (choice.image !== undefined) {
    const inImage = candidates.filter((language) => language.image === choice.image);
    if (inImage.length === 0) {
      const images = [...new Set(candidates.map((language) => language.image))].join(", ");
      throw new InvalidRequestError(`Image ${JSON.stringify(choice.image)} does not provide ${candidates[0]!.id}; ${images} ${images.includes(",") ? "do" : "does"}.`, {
        language: candidates[0]!.id,
        image: choice.image,
        images,
      });
    }
    candidates = inImage;
  }
  if (choice.version !== undefined) {
    const version = choice.version;
    const matching = candidates.filter((language) => versionMatches(language.version.detected, version));
    if (matching.length === 0) {
      const installed = candidates.map((language) => language.version.detected);
      const list = candidates.length === 1 ? `version ${installed[0]}` : `versions ${candidates.map((language) => `${language.version.detected} (${language.image})`).join(", ")}`;
      throw new InvalidRequestError(`${name} ${version} is not installed; this server has ${list}.`, { language: candidates[0]!.id, version, installed });
    }
    candidates = matching;
  }
  return [...candidates].sort(newestFirst)[0]!;
}

function versionMatches(detected: string, prefix: string): boolean {
  return detected === prefix || detected.startsWith(`${prefix}.`) || detected.startsWith(`${prefix}-`) || detected.startsWith(`${prefix}+`);
}

function newestFirst(a: LanguageEntry, b: LanguageEntry): number {
  const byVersion = compareVersions(b.version.detected, a.version.detected);
  if (byVersion !== 0) return byVersion;
  return Number(a.image === "host") - Number(b.image === "host");
}

/** Compares dotted versions numerically ("3.10" > "3.9"); non-numeric parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const left = a.split(/[.+-]/);
  const right = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? "";
    const y = right[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    const order = x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}
