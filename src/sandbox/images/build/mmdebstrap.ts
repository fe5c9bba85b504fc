import { spawn } from "node:child_process";
import { Transform, type Readable } from "node:stream";
import { ImageError } from "../../../errors.js";
import { childStarted } from "../../container/child-started.js";
import type { DebianRootfs } from "../schema.js";

export interface MmdebstrapOptions {
  readonly mirror: string;
  /** mmdebstrap --mode: `auto` is root as root, else unshare (rootless, needs /etc/subuid). @defaultValue "auto" */
  readonly mode?: "auto" | "root" | "unshare" | "fakechroot";
}

/** mmdebstrap's argv for a `debian` rootfs: a tarball on stdout. */
export function mmdebstrapArgs(rootfs: DebianRootfs, options: MmdebstrapOptions): string[] {
  const args = [`--mode=${options.mode ?? "auto"}`, `--variant=${rootfs.variant}`, `--components=${rootfs.components.join(",")}`, "--format=tar"];
  if (rootfs.packages.length > 0) args.push(`--include=${rootfs.packages.join(",")}`);
  for (const glob of rootfs.exclude) args.push(`--dpkgopt=path-exclude=${glob}`);
  // Some maintainer scripts (OpenJDK's update-alternatives) fail when the man1 directory is missing.
  if (rootfs.exclude.some((glob) => glob.startsWith("/usr/share/man"))) args.push('--essential-hook=mkdir -p "$1/usr/share/man/man1"');
  // The schema allows only [A-Za-z0-9._*/+-] in cleanup paths: safe to put in a shell hook unquoted (globs must expand).
  if (rootfs.cleanup.length > 0) args.push(`--customize-hook=cd "$1" && rm -rf ${rootfs.cleanup.map((glob) => `.${glob}`).join(" ")}`);
  args.push(rootfs.suite, "-", options.mirror);
  return args;
}

/** What to do when mmdebstrap cannot be started. */
const MMDEBSTRAP_ADVICE = "install it with `sudo apt-get install -y mmdebstrap` (Debian/Ubuntu), or import a built image instead (`warren image import`).";

/**
 * Runs mmdebstrap and returns its tarball as a stream, once it has started
 * (ProgramStartError when it cannot be: not installed, not executable). The
 * stream ends only once mmdebstrap has exited: with an error when it failed,
 * so an importer reading it never stores the output of a failed build.
 */
export async function mmdebstrapTar(rootfs: DebianRootfs, options: MmdebstrapOptions): Promise<Readable> {
  const args = mmdebstrapArgs(rootfs, options);
  const child = spawn("mmdebstrap", args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<Error | undefined>((resolve) => {
    child.on("error", (error) => resolve(new ImageError(`mmdebstrap failed: ${error.message}`, { cause: error })));
    child.once("exit", (code, signal) =>
      resolve(code === 0 ? undefined : new ImageError(`mmdebstrap failed (${signal ?? `exit code ${code}`}); its messages are above. Command: mmdebstrap ${args.join(" ")}`)),
    );
  });
  await childStarted(child, "mmdebstrap", MMDEBSTRAP_ADVICE);
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      void exited.then((error) => callback(error ?? null));
    },
  });
  // The importer starts reading only after its own set-up (a work dir): a
  // build that fails before then must not be an unhandled 'error' event that
  // kills the process. The reader still gets the error: an errored stream
  // fails whoever reads it later.
  out.on("error", () => {});
  out.on("close", () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  void exited.then((error) => {
    if (error !== undefined) out.destroy(error);
  });
  child.stdout.pipe(out);
  return out;
}
