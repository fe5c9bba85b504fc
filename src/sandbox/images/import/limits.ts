import { ImageLimitError } from "../../../errors.js";

/** Caps on one import, so a hostile or mistaken archive cannot fill the disk or the inode table. */
export interface ImportLimits {
  /** Bytes written into the image (file contents over all layers) and bytes of the archive spooled. */
  readonly maxBytes: number;
  /** Entries created over all layers (files, directories, links). */
  readonly maxFiles: number;
}

/**
 * Defaults fit a large polyglot Debian image (a few GB, a few hundred thousand files).
 * @defaultValue 16 GiB, 2 000 000 entries
 */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = Object.freeze({ maxBytes: 16 * 1024 ** 3, maxFiles: 2_000_000 });

/** Counts what an import writes and throws ImageLimitError past a cap. */
export class ImportBudget {
  bytes = 0;
  files = 0;
  spooled = 0;

  constructor(readonly limits: ImportLimits) {
    if (!(limits.maxBytes > 0) || !(limits.maxFiles > 0)) throw new RangeError(`Expected positive import limits, got ${JSON.stringify(limits)}`);
  }

  addFile(name: string): void {
    if (++this.files > this.limits.maxFiles) {
      throw new ImageLimitError(
        `The image has more than ${this.limits.maxFiles} files (at ${JSON.stringify(name)}); raise the cap with --max-files if the image is meant to be this large.`,
        { maxFiles: this.limits.maxFiles },
      );
    }
  }

  addBytes(name: string, size: number, what: "written" | "spooled" = "written"): void {
    if (what === "spooled") this.spooled += size;
    else this.bytes += size;
    const total = what === "spooled" ? this.spooled : this.bytes;
    if (total > this.limits.maxBytes) {
      throw new ImageLimitError(
        `The image is larger than ${formatBytes(this.limits.maxBytes)} (at ${JSON.stringify(name)}); raise the cap with --max-size-mb if it is meant to be this large.`,
        { maxBytes: this.limits.maxBytes },
      );
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
