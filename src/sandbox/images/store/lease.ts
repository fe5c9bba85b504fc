import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { StoreLayout } from "./layout.js";

/** A running sandbox's claim on a stored image: `warren image rm` waits for or refuses while one is live. */
export interface ImageLease {
  release(): void;
}

/**
 * Claims sha256/HEX for one sandbox. The lease file is written first and
 * the image checked after, while `rm` writes its marker first and checks the
 * leases after: whichever comes second sees the other, so a sandbox never
 * starts on an image that is being deleted. Returns undefined (and claims
 * nothing) when the image is gone or going.
 */
export function acquireLease(layout: StoreLayout, hex: string): ImageLease | undefined {
  const dir = layout.leasesDir(hex);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, `${process.pid}-${processStartTime(process.pid) ?? 0}-${randomUUID()}`);
  fs.writeFileSync(file, "", { flag: "wx", mode: 0o644 });
  const release = () => fs.rmSync(file, { force: true });
  if (markerIsLive(layout, hex) || !fs.existsSync(layout.contentFile(hex))) {
    release();
    return undefined;
  }
  return { release };
}

/** The pids holding live leases on sha256/HEX; leases of processes that are gone are removed. */
export function liveLeases(layout: StoreLayout, hex: string): number[] {
  const dir = layout.leasesDir(hex);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    const [pid, start] = name.split("-").map(Number) as [number, number];
    if (isLive(pid, start)) pids.push(pid);
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return pids;
}

/** Writes the removal marker (with this process's identity); false when a live removal holds it. */
export function markRemoving(layout: StoreLayout, hex: string): boolean {
  fs.mkdirSync(layout.leasesRoot, { recursive: true, mode: 0o755 });
  const marker = layout.removingMarker(hex);
  if (markerIsLive(layout, hex)) return false;
  fs.rmSync(marker, { force: true }); // a dead remover's
  try {
    fs.writeFileSync(marker, `${process.pid}-${processStartTime(process.pid) ?? 0}`, { flag: "wx", mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

export function unmarkRemoving(layout: StoreLayout, hex: string): void {
  fs.rmSync(layout.removingMarker(hex), { force: true });
}

/** Whether a removal of sha256/HEX by a live process is under way. */
export function markerIsLive(layout: StoreLayout, hex: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(layout.removingMarker(hex), "utf8");
  } catch {
    return false;
  }
  const [pid, start] = text.split("-").map(Number) as [number, number];
  // A marker being written is empty for an instant: count it as live.
  return text === "" || isLive(pid, start);
}

/** A process is the same one when its pid exists with the same start time (pids are reused). */
function isLive(pid: number, start: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  return now !== undefined && (start === 0 || now === start);
}

/** Field 22 of /proc/PID/stat: the start time in clock ticks after boot. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}
