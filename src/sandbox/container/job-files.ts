import { InvalidRequestError } from "../../errors.js";
import { checkFilePath } from "../../run/file-path.js";

/** A file of a job, as it will appear below the container's work dir. */
export interface JobFile {
  /** Relative path; checked by checkFilePath. */
  readonly path: string;
  readonly content: Buffer | string;
}

/**
 * The job's files as the stream a served `--unpack` request carries in its
 * stdin (docs/launcher.md): per file, the path's length, the path, the
 * content's length (32-bit little-endian each) and the content. The launcher
 * writes them into the work dir inside the container, as the sandbox user;
 * nothing touches the host's file system on the way.
 *
 * Every path is checked first (checkFilePath), and files that clash — the same
 * path twice, or a file where another needs a directory — are refused here,
 * as a client's mistake, before anything runs.
 */
export function encodeJobFiles(files: readonly JobFile[]): Buffer {
  const seen = new Map<string, "file" | "dir">();
  const parts: Buffer[] = [];
  for (const file of files) {
    const segments = checkFilePath(file.path);
    for (let depth = 1; depth <= segments.length; depth += 1) {
      const prefix = segments.slice(0, depth).join("/");
      const kind = depth === segments.length ? "file" : "dir";
      const before = seen.get(prefix);
      if (before !== undefined && (before === "file" || kind === "file")) {
        throw new InvalidRequestError(`File path ${JSON.stringify(file.path)} clashes with another file of the job.`);
      }
      seen.set(prefix, kind);
    }
    const path = Buffer.from(file.path, "utf8");
    const content = typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content;
    if (content.length > 0xffff_ffff) throw new InvalidRequestError(`File ${JSON.stringify(file.path)} is over 4 GiB.`);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(path.length, 0);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(content.length, 0);
    parts.push(header, path, size, content);
  }
  return Buffer.concat(parts);
}
