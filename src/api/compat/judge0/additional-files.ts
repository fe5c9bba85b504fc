import yauzl from "yauzl";
import { isValidFilePath } from "../../../run/file-path.js";

/** Judge0's MAX_EXTRACT_SIZE (KB): what additional_files may hold once unpacked, all files together. */
export const MAX_EXTRACT_KB = 10_240;

/** A zip that cannot be taken, and why (Judge0's 422 message for additional_files). */
export class ArchiveError extends Error {}

export interface ArchiveFile {
  readonly path: string;
  readonly content: Buffer;
}

/**
 * The files of a Judge0 submission's additional_files (a zip), read from
 * memory and bounded: at most `maxFiles` files and MAX_EXTRACT_KB of content
 * together, counted as each is inflated (a zip's declared sizes are checked
 * against what it holds, so a bomb stops at the bound, not after); every
 * name a valid relative path (no `..`, no absolute path); directories are
 * implied by the files' paths. Rejects with ArchiveError.
 */
export function readArchive(zip: Buffer, maxFiles: number): Promise<ArchiveFile[]> {
  const maxBytes = MAX_EXTRACT_KB * 1024;
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, decodeStrings: true }, (error, archive) => {
      if (error !== null || archive === undefined) {
        reject(new ArchiveError(`is not a zip archive (${error?.message ?? "unreadable"})`));
        return;
      }
      const files: ArchiveFile[] = [];
      let total = 0;
      const fail = (message: string) => {
        archive.close();
        reject(new ArchiveError(message));
      };
      archive.on("error", (cause: Error) => fail(`is not a valid zip archive (${cause.message})`));
      archive.on("end", () => resolve(files));
      archive.on("entry", (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (name.endsWith("/")) return void archive.readEntry();
        if (!isValidFilePath(name)) return fail(`contains a file that cannot be unpacked here: ${JSON.stringify(name)} (a relative path without "..", "." or empty segments)`);
        if (files.length >= maxFiles) return fail(`holds more than ${maxFiles} files`);
        if (total + entry.uncompressedSize > maxBytes) return fail(`unpacks to more than ${MAX_EXTRACT_KB} KB`);
        archive.openReadStream(entry, (openError, stream) => {
          if (openError !== null || stream === undefined) return fail(`has an entry that cannot be read: ${JSON.stringify(name)} (${openError?.message ?? "unreadable"})`);
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => {
            total += chunk.length;
            if (total > maxBytes) {
              stream.destroy();
              fail(`unpacks to more than ${MAX_EXTRACT_KB} KB`);
              return;
            }
            chunks.push(chunk);
          });
          stream.on("error", (cause: Error) => fail(`has an entry that cannot be read: ${JSON.stringify(name)} (${cause.message})`));
          stream.on("end", () => {
            files.push({ path: name, content: Buffer.concat(chunks) });
            archive.readEntry();
          });
        });
      });
      archive.readEntry();
    });
  });
}
