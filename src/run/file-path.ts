import { InvalidFilePathError } from "../errors.js";

/**
 * Checks a job file path: relative, non-empty, no `..` or `.` segment, no empty
 * segment, no NUL. Returns the path's segments. Throws InvalidFilePathError.
 *
 * Why so strict: the container's init writes them below the work dir (with
 * O_NOFOLLOW and O_EXCL, docs/launcher.md), and refuses the same; refusing
 * them here makes a bad path the client's 400, before anything runs.
 */
/** What the file system and the launcher's copy-in take: NAME_MAX bytes a segment, 32 levels. */
export const FILE_PATH_BOUNDS = Object.freeze({ segmentBytes: 255, segments: 32 });

export function checkFilePath(path: string): string[] {
  if (path.length === 0) throw new InvalidFilePathError(path, "it is empty");
  if (path.length > 255) throw new InvalidFilePathError(path, "it is longer than 255 characters");
  if (path.includes("\0")) throw new InvalidFilePathError(path, "it contains a NUL byte");
  if (path.startsWith("/")) throw new InvalidFilePathError(path, "it is absolute; give a path relative to the work dir");
  if (path.includes("\\")) throw new InvalidFilePathError(path, "it contains a backslash");
  const segments = path.split("/");
  if (segments.length > FILE_PATH_BOUNDS.segments) throw new InvalidFilePathError(path, `it is more than ${FILE_PATH_BOUNDS.segments} levels deep`);
  for (const segment of segments) {
    if (Buffer.byteLength(segment, "utf8") > FILE_PATH_BOUNDS.segmentBytes) {
      throw new InvalidFilePathError(path, `a segment is longer than ${FILE_PATH_BOUNDS.segmentBytes} bytes (UTF-8)`);
    }
    if (segment === "..") throw new InvalidFilePathError(path, "it contains `..`");
    if (segment === ".") throw new InvalidFilePathError(path, "it contains a `.` segment");
    if (segment === "") throw new InvalidFilePathError(path, "it contains an empty segment (`//` or a trailing `/`)");
  }
  return segments;
}

/** The same check as a boolean, for schema refinements. */
export function isValidFilePath(path: string): boolean {
  try {
    checkFilePath(path);
    return true;
  } catch {
    return false;
  }
}
