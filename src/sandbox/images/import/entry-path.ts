import { ImageRejectedError } from "../../../errors.js";

/**
 * An archive entry's name as a path relative to the image root ("" for the
 * root itself): `./` prefixes and empty or `.` components dropped. Absolute
 * names, `..` components and NUL bytes are refused — an entry that names a
 * place outside the image is a hostile archive, not a mistake to repair.
 */
export function entryPath(name: string, what = "entry"): string {
  if (name.includes("\0")) throw new ImageRejectedError(`The archive's ${what} ${JSON.stringify(name)} contains a NUL byte.`, { name });
  if (name.startsWith("/")) {
    throw new ImageRejectedError(`The archive's ${what} ${JSON.stringify(name)} is an absolute path; image archives hold paths relative to the root (e.g. \`./usr/bin\`).`, { name });
  }
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) {
    throw new ImageRejectedError(`The archive's ${what} ${JSON.stringify(name)} climbs out of the image with \`..\`.`, { name });
  }
  return parts.join("/");
}

/** The parent directories of a relative path, outermost first: "a/b/c" → ["a", "a/b"]. */
export function parentsOf(rel: string): string[] {
  const parts = rel.split("/");
  const parents: string[] = [];
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
  return parents;
}
