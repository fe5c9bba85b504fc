import { InvalidRequestError } from "../../errors.js";
import type { ExecLimits } from "./exec-types.js";

/** A host path bound read-only into the container. */
export interface Bind {
  readonly source: string;
  readonly target: string;
  /** Skip it when `source` does not exist (`--ro-bind-try`). */
  readonly optional?: boolean;
}

export interface HoldOptions {
  readonly rootfs: string;
  readonly binds?: readonly Bind[];
  readonly scratchMb?: number;
  readonly workdir?: string;
  readonly hostname?: string;
  /** The delegated parent cgroups (one per hierarchy): the container's own cgroup is made below them, and each execution's below that. */
  readonly cgroups?: readonly string[];
  /** It may hold a zygote (`--zygote-host`). */
  readonly zygoteHost?: boolean;
  /** Its /proc is the launcher's own, bound, not a fresh procfs (`--bind-proc`, WARREN_BIND_PROC; SECURITY.md, *Inside a container*). */
  readonly bindProc?: boolean;
}

/** Arguments of `warren-launch --hold` (docs/launcher.md, container options). */
export function holdArgs(options: HoldOptions, statusFd: number): string[] {
  return ["--hold", ...containerArgs(options), "--status-fd", String(statusFd)];
}

/** The container options alone (also the first half of a one-shot command line, where the cgroups are the execution's parents). */
export function containerArgs(options: HoldOptions): string[] {
  const args = ["--rootfs", options.rootfs];
  for (const bind of options.binds ?? []) {
    args.push(bind.optional === true ? "--ro-bind-try" : "--ro-bind", bind.source, bind.target);
  }
  if (options.scratchMb !== undefined) args.push("--scratch-mb", integer("scratchMb", options.scratchMb));
  if (options.workdir !== undefined) args.push("--workdir", options.workdir);
  if (options.hostname !== undefined) args.push("--hostname", options.hostname);
  for (const cgroup of options.cgroups ?? []) args.push("--cgroup", cgroup);
  if (options.zygoteHost === true) args.push("--zygote-host");
  if (options.bindProc === true) args.push("--bind-proc");
  return args;
}

export interface ExecOptions {
  /** Whether the container has cgroups (its --cgroup): memory, process and CPU limits need them. */
  readonly hasCgroups: boolean;
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly limits: ExecLimits;
}

/** The exec options and program of one execution, `… -- PROGRAM ARG…`: a served request's arguments (docs/launcher.md, served execs). */
export function execArgs(options: ExecOptions): string[] {
  if (options.argv.length === 0 || options.argv[0] === "") throw new InvalidRequestError("The program to run (argv[0]) is empty.");
  const { limits } = options;
  const needsCgroup = limits.memoryMb !== undefined || limits.processes !== undefined || limits.cpuTimeMs !== undefined || limits.cpus !== undefined;
  if (needsCgroup && !options.hasCgroups) {
    throw new InvalidRequestError("Memory, process and CPU limits need a delegated cgroup; run `warren doctor`.");
  }
  const args: string[] = [];
  const flags: [Exclude<keyof ExecLimits, "cpus">, string][] = [
    ["memoryMb", "--memory-mb"],
    ["processes", "--pids"],
    ["cpuTimeMs", "--cpu-ms"],
    ["wallTimeMs", "--wall-ms"],
    ["outputKb", "--output-kb"],
    ["openFiles", "--open-files"],
    ["fileSizeMb", "--file-size-mb"],
    ["stackMb", "--stack-mb"],
  ];
  for (const [field, flag] of flags) {
    const value = limits[field];
    if (value !== undefined) args.push(flag, integer(field, value));
  }
  if (limits.cpus !== undefined) args.push("--cpus", cpus(limits.cpus));
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InvalidRequestError(`Environment variable name ${JSON.stringify(key)} is not a valid name.`);
    if (value.includes("\0")) throw new InvalidRequestError(`Environment variable ${key} contains a NUL byte.`);
    args.push("--env", `${key}=${value}`);
  }
  if (options.cwd !== undefined) args.push("--chdir", options.cwd);
  args.push("--", ...options.argv);
  for (const arg of options.argv) {
    if (arg.includes("\0")) throw new InvalidRequestError("A program argument contains a NUL byte.");
  }
  return args;
}

/** The launcher takes 0.01 to 1024 CPUs, to the hundredth. */
function cpus(value: number): string {
  if (!Number.isFinite(value) || value < 0.01 || value > 1024) {
    throw new InvalidRequestError(`Expected \`cpus\` to be a number from 0.01 to 1024, got \`${value}\` (${typeof value}).`);
  }
  return String(Math.round(value * 100) / 100);
}

function integer(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidRequestError(`Expected \`${name}\` to be a positive integer, got \`${value}\` (${typeof value}).`);
  }
  return String(value);
}
