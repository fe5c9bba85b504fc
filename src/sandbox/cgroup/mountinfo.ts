import fs from "node:fs";

/** One mount from /proc/self/mountinfo (only the fields Warren uses). */
export interface MountEntry {
  /** The root of the mount inside its filesystem (field 4). */
  readonly root: string;
  readonly mountPoint: string;
  /** Per-mount options (field 6): `ro` or `rw`, nosuid, … */
  readonly options: readonly string[];
  readonly fsType: string;
  /** Per-superblock options; for cgroup v1 these name the controllers. */
  readonly superOptions: readonly string[];
}

/** Decodes the octal escapes (`\040` for a space) the kernel uses in paths. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses the text of /proc/self/mountinfo; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const separator = fields.indexOf("-", 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    entries.push({
      root: unescape(fields[3] ?? ""),
      mountPoint: unescape(fields[4] ?? ""),
      options: (fields[5] ?? "").split(","),
      fsType: fields[separator + 1] ?? "",
      superOptions: (fields[separator + 3] ?? "").split(","),
    });
  }
  return entries;
}

export function readMountInfo(): MountEntry[] {
  return parseMountInfo(fs.readFileSync("/proc/self/mountinfo", "utf8"));
}

/** The mount FILE (an absolute path without symbolic links) is on: the deepest mount point above it, the last mounted there. */
export function mountHolding(file: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let holder: MountEntry | undefined;
  for (const mount of mounts) {
    const above = file === mount.mountPoint || file.startsWith(mount.mountPoint === "/" ? "/" : `${mount.mountPoint}/`);
    if (above && (holder === undefined || mount.mountPoint.length >= holder.mountPoint.length)) holder = mount;
  }
  return holder;
}
