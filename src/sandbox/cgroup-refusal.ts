import path from "node:path";
import { CgroupUnavailableError } from "../errors.js";
import { onReadOnlyMount, setupFix } from "./cgroup/probe.js";
import { RUNTIME_FIXES } from "./container-signs.js";

/** What Warren was doing to its cgroup subtree when the file system said no. */
export type CgroupWork =
  /** making the subtree (as root, `warren serve` on a fresh machine; `warren setup-cgroups`) */
  | "delegate"
  /** removing what launchers that are gone left behind (at start-up) */
  | "reap";

/** The file system's refusals a cgroup directory meets: each becomes Warren's refusal, never a stack trace. */
const REFUSALS = new Set(["ENOENT", "ENOTDIR", "EACCES", "EPERM", "EROFS", "EBUSY"]);

function why(code: string, file: string, syscall: string | undefined): string {
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return `${file} does not exist (is the cgroup hierarchy mounted there?)`;
    case "EROFS":
      return `${file} is on a read-only mount (a container's /sys/fs/cgroup is)`;
    case "EBUSY":
      return `${file} is still in use: its processes did not die`;
    default:
      return syscall === "kill"
        ? `the processes left in ${file} are not this user's to kill`
        : `${file} is not this user's (uid ${process.getuid?.() ?? "?"}) to change`;
  }
}

/**
 * ERROR as Warren's refusal (CgroupUnavailableError) when it is one of the
 * file system's refusals (ENOENT, ENOTDIR, EACCES, EPERM, EROFS, EBUSY) met
 * doing WORK on the subtree ROOT, saying what to do; undefined for anything
 * else (a bug, rethrown as it is). USER: whom the setup fix names.
 */
export function cgroupRefusal(error: unknown, work: CgroupWork, root: string, user: string): CgroupUnavailableError | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  if (typeof e !== "object" || e === null || typeof e.code !== "string" || !REFUSALS.has(e.code)) return undefined;
  const file = typeof e.path === "string" ? e.path : root;
  const call = e.syscall === undefined ? "" : `${e.syscall} `;
  // Node's recursive mkdir answers ENOENT where the parent is on a read-only mount (the crash): say which it was
  const code = (e.code === "ENOENT" || e.code === "ENOTDIR") && onReadOnlyMount(path.dirname(file)) ? "EROFS" : e.code;
  const details = { code, syscall: e.syscall, path: file, root, work };
  if (work === "reap") {
    return new CgroupUnavailableError(
      `Warren could not remove a cgroup that a launcher which is gone left in ${root}: ${call}${why(code, file, e.syscall)} (${code}).\n` +
        `Remove it by hand (kill what each cgroup.procs below it lists, then rmdir its directories, deepest first), ` +
        `or set WARREN_CGROUP_ROOT to another delegated subtree; \`warren doctor\` checks the rest.`,
      details,
    );
  }
  const inContainer =
    code === "EROFS" || code === "ENOENT" || code === "ENOTDIR"
      ? `Inside a container: ${RUNTIME_FIXES.cgroups}.`
      : `As root of a container (a user namespace) Warren cannot change the host's cgroups: ${RUNTIME_FIXES.user}; and ${RUNTIME_FIXES.cgroups}.`;
  return new CgroupUnavailableError(
    `Warren could not make its cgroup subtree ${root}: ${call}${why(code, file, e.syscall)} (${code}). Warren will not run code without limits.\n` +
      `On a host: \`${setupFix(user)}\` once (as root), or set WARREN_CGROUP_ROOT to a delegated subtree. ${inContainer}\n` +
      "Run `warren doctor` for the details.",
    details,
  );
}

/** WORK's outcome; the file system's refusals (cgroupRefusal) thrown as Warren's. */
export async function refusingCgroupErrors<T>(work: CgroupWork, root: string, user: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw cgroupRefusal(error, work, root, user) ?? error;
  }
}
