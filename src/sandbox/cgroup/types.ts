/** The controllers Warren needs for every execution. */
export const REQUIRED_CONTROLLERS = ["memory", "pids", "cpu", "cpuacct"] as const;

/** One line of `warren doctor`'s cgroup section. */
export interface CgroupCheckItem {
  /** What is checked, e.g. "memory: /sys/fs/cgroup/memory/warren is writable". */
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed, or what was found. */
  readonly detail: string;
  /** A command that fixes it, when one exists. */
  readonly fix?: string;
}

/**
 * One cgroup hierarchy layout (v1 or v2), behind one interface. `root` is the
 * value of WARREN_CGROUP_ROOT: on v2 an absolute directory in the cgroup2
 * mount, on v1 a path inside each controller's hierarchy (e.g. `/warren`).
 */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** The root used when WARREN_CGROUP_ROOT is not set. */
  readonly defaultRoot: string;
  /** The root to use: `configured` (WARREN_CGROUP_ROOT) when set, else the driver's choice (v2: the default root, or this process's own delegated cgroup). */
  chooseRoot(configured: string | undefined): Promise<string>;
  /**
   * Before the first execution: when this process sits in `root` itself (v2:
   * its own cgroup chosen as the root), moves it and every other process
   * there into the `supervisor` leaf and enables the controllers for the
   * root's children. Nothing otherwise. Returns what was done.
   */
  adopt(root: string): Promise<string[]>;
  /** The directories passed as `--cgroup` to the launcher (one per hierarchy on v1, one on v2). */
  parents(root: string): string[];
  /** Delegation status, item by item, for `warren doctor`; a fix names `user` (default `$USER`) as the one to delegate to. */
  check(root: string, user?: string): Promise<CgroupCheckItem[]>;
  /** Makes `root` usable by uid/gid (run as root). Returns what was done, one line per action. */
  delegate(root: string, uid: number, gid: number): Promise<string[]>;
  /** Creates `root` (v2: with the controllers enabled for its children) as the current user. */
  makeSubtree(root: string): Promise<void>;
  /**
   * Kills the processes in, and removes, every child cgroup of `root` except
   * `supervisor`: leftovers of a crashed runner. Call it only when no
   * execution of this runner is in progress. Returns the removed directories.
   */
  reapStale(root: string): Promise<string[]>;
}

/** The leaf cgroup (v2) that the runner process itself lives in. */
export const SUPERVISOR_CGROUP = "supervisor";
