import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import net from "node:net";
import type { Readable, Writable } from "node:stream";
import { inheritedEnvironment } from "../../config/inherited-env.js";
import { signalName } from "./launch-status.js";

/**
 * Starts the launcher with posix_spawn(3) (glibc: clone with CLONE_VM |
 * CLONE_VFORK) through koffi, instead of child_process.spawn.
 *
 * Why: libuv starts a child with fork(), which copies the page tables of the
 * whole Node process while the event loop waits. With the ~100 MB a Warren
 * server holds, that is 3–7 ms per spawn on a small VM (1.3 ms at Node's
 * bare minimum), and a worker spawns one launcher per job (the warm pool's
 * refill). posix_spawn borrows the parent's memory until the child execs:
 * about 0.25 ms, whatever the parent's size.
 *
 * Falls back to child_process.spawn when koffi or posix_spawn is not there,
 * or when asked to (`nodeSpawn`: WARREN_NODE_SPAWN=1).
 */

/** The part of ChildProcess that the container client uses. */
export interface LauncherProcess extends EventEmitter {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** fd 0, 1 and 2 (the launcher writes its ready line on stderr: `--status-fd 2`). */
  readonly stdio: readonly (Readable | Writable | null)[];
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
}

interface Libc {
  pipe2(fds: number[], flags: number): number;
  faInit(fa: Buffer): number;
  faDup2(fa: Buffer, fd: number, newfd: number): number;
  faDestroy(fa: Buffer): number;
  posixSpawn(pid: number[], path: string, fa: Buffer, attr: null, argv: (string | null)[], envp: (string | null)[]): number;
  close(fd: number): number;
  waitpid(pid: number, status: number[], options: number): number;
}

const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
/** glibc's posix_spawn_file_actions_t is 80 bytes on x86_64 and aarch64; room to spare. */
const FILE_ACTIONS_BYTES = 256;

let libc: Libc | null | undefined;
/** posix_spawn's envp: the inherited environment, null-terminated, built once. */
let envp: (string | null)[] | undefined;

function environmentPointers(): (string | null)[] {
  envp ??= [...inheritedEnvironment(), null];
  return envp;
}

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const lib = koffi.load("libc.so.6");
    libc = {
      pipe2: lib.func("int pipe2(_Out_ int *fds, int flags)") as Libc["pipe2"],
      faInit: lib.func("int posix_spawn_file_actions_init(void *fa)") as Libc["faInit"],
      faDup2: lib.func("int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)") as Libc["faDup2"],
      faDestroy: lib.func("int posix_spawn_file_actions_destroy(void *fa)") as Libc["faDestroy"],
      posixSpawn: lib.func("int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)") as Libc["posixSpawn"],
      close: lib.func("int close(int fd)") as Libc["close"],
      waitpid: lib.func("int waitpid(int pid, _Out_ int *status, int options)") as Libc["waitpid"],
    };
  } catch {
    libc = null;
  }
  return libc;
}

/**
 * Runs `file` with `args`, its stdin, stdout and stderr on pipes, as
 * child_process.spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] }) would.
 * (Three, not four: a held launcher's ready line comes on its stderr, one
 * pipe and one Socket fewer per container; docs/performance.md.)
 */
export function spawnLauncher(file: string, args: readonly string[], options: { readonly nodeSpawn?: boolean } = {}): LauncherProcess {
  const c = options.nodeSpawn === true ? null : loadLibc();
  if (c === null) return spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] }) as ChildProcess & LauncherProcess;
  return new SpawnedLauncher(c, file, args);
}

class SpawnedLauncher extends EventEmitter implements LauncherProcess {
  readonly pid: number | undefined;
  readonly stdin: Writable | null = null;
  readonly stdout: Readable | null = null;
  readonly stderr: Readable | null = null;
  readonly stdio: readonly (Readable | Writable | null)[];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly #libc: Libc;

  constructor(c: Libc, file: string, args: readonly string[]) {
    super();
    this.#libc = c;
    // [ours, the child's] per fd: the child reads fd 0, writes 1 and 2
    const pipes: [number, number][] = [];
    const fa = Buffer.alloc(FILE_ACTIONS_BYTES);
    try {
      for (let fd = 0; fd < 3; fd += 1) {
        const ends = [-1, -1];
        if (c.pipe2(ends, O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
        pipes.push(fd === 0 ? [ends[1]!, ends[0]!] : [ends[0]!, ends[1]!]);
      }
      if (c.faInit(fa) !== 0) throw new Error("posix_spawn_file_actions_init failed");
      // dup2 clears close-on-exec on the copy; every other fd of ours is close-on-exec
      pipes.forEach(([, theirs], fd) => c.faDup2(fa, theirs, fd));
      const pid = [0];
      const rc = c.posixSpawn(pid, file, fa, null, [file, ...args, null], environmentPointers());
      c.faDestroy(fa);
      if (rc !== 0) throw Object.assign(new Error(`posix_spawn ${file}: errno ${rc}`), { errno: rc, code: rc === 2 ? "ENOENT" : rc === 13 ? "EACCES" : "ESPAWN" });
      this.pid = pid[0];
    } catch (error) {
      for (const [ours, theirs] of pipes) {
        c.close(ours);
        c.close(theirs);
      }
      this.stdio = [null, null, null];
      // as ChildProcess does: the failure arrives as an 'error' event, then 'close'
      this.exitCode = -1;
      queueMicrotask(() => {
        this.emit("error", error);
        this.emit("exit", -1, null);
        this.emit("close", -1, null);
      });
      return;
    }
    for (const [, theirs] of pipes) c.close(theirs);
    const [stdin, stdout, stderr] = pipes.map(([ours], fd) => new net.Socket({ fd: ours, readable: fd !== 0, writable: fd === 0 }));
    // a pipe's far end closing is not an error of ours; the child's exit says what happened
    for (const socket of [stdin, stdout, stderr]) socket!.on("error", () => {});
    this.stdin = stdin!;
    this.stdout = stdout!;
    this.stderr = stderr!;
    this.stdio = [stdin!, stdout!, stderr!];
    // The launcher's output pipes close when it exits (nothing it starts keeps them):
    // then it is reaped (waitpid on its pid alone, as libuv reaps only its own children).
    let open = 2;
    const closed = () => {
      open -= 1;
      if (open === 0) this.#reap(0);
    };
    stdout!.once("close", closed);
    stderr!.once("close", closed);
  }

  #reap(tries: number): void {
    const status = [0];
    const got = this.#libc.waitpid(this.pid!, status, WNOHANG);
    if (got === 0) {
      // closed its pipes but has not exited yet: look again shortly (bounded by its exit)
      setTimeout(() => this.#reap(tries + 1), Math.min(50, 1 + tries));
      return;
    }
    const raw = status[0]!;
    const signal = raw & 0x7f;
    if (got > 0 && signal === 0) this.exitCode = (raw >> 8) & 0xff;
    else if (got > 0) this.signalCode = signalName(signal) as NodeJS.Signals;
    else this.exitCode = -1; // reaped by someone else: its status is lost
    (this.stdin as net.Socket | null)?.destroy();
    this.emit("exit", this.exitCode, this.signalCode);
    this.emit("close", this.exitCode, this.signalCode);
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.pid === undefined || this.exitCode !== null || this.signalCode !== null) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
