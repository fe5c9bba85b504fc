import fs from "node:fs";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError, WarrenError } from "../errors.js";
import { refusingCgroupErrors } from "../sandbox/cgroup-refusal.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../sandbox/cgroup/detect.js";
import { SUPERVISOR_CGROUP } from "../sandbox/cgroup/types.js";
import { parseCommand } from "./args.js";

const USAGE = `Usage: sudo warren setup-cgroups --user USER|UID[:GID]

Delegates a cgroup subtree (WARREN_CGROUP_ROOT, default /sys/fs/cgroup/warren on
v2, /warren in each v1 hierarchy) to USER, once, so that USER runs Warren with no
privileges.`;

/** uid and gid of `user` (a name or a uid) from /etc/passwd; a uid[:gid] found there under no name is taken as it is. */
export function lookupUser(user: string, passwd: string): { uid: number; gid: number; name: string } {
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name === user || uid === user) return { name, uid: Number(uid), gid: Number(gid) };
  }
  // a uid[:gid] no host user has: a container's (Warren's uid 10000 in its image)
  const numeric = /^(\d+)(?::(\d+))?$/.exec(user);
  if (numeric !== null) return { name: user, uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  throw new InvalidRequestError(`warren setup-cgroups: no user ${JSON.stringify(user)} in /etc/passwd (a uid[:gid] is taken as it is).`);
}

/** `warren setup-cgroups --user USER` (as root). */
export async function setupCgroupsCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("setup-cgroups", USAGE, { args: argv, strict: true, options: { user: { type: "string" } } });
  if (parsed === undefined) return 0;
  const { values } = parsed;
  const settings = loadSettings(env, "setup-cgroups");
  if (values.user === undefined) throw new InvalidRequestError(`warren setup-cgroups: --user is required.\n\n${USAGE}`);
  if (process.getuid?.() !== 0) {
    throw new WarrenError("not_root", `warren setup-cgroups changes system cgroups and must run as root: sudo npx warren setup-cgroups --user ${values.user}`);
  }
  const user = lookupUser(values.user, fs.readFileSync("/etc/passwd", "utf8"));
  const driver = detectCgroupDriver();
  const root = resolveCgroupRoot(driver, settings.sandbox.cgroupRoot);
  const done = await refusingCgroupErrors("delegate", root, values.user, () => driver.delegate(root, user.uid, user.gid));
  process.stdout.write(`cgroup v${driver.version}: delegated ${root} to ${user.name} (${user.uid}:${user.gid})\n`);
  for (const line of done) process.stdout.write(`  - ${line}\n`);
  process.stdout.write(`\nUse it with:\n  export WARREN_CGROUP_ROOT=${root}\n`);
  if (driver.version === 2) {
    process.stdout.write(
      `\nOn cgroup v2 the runner itself must live inside ${root} (the kernel lets a process move others only\n` +
        `between cgroups whose common ancestor it may write), in the leaf ${root}/${SUPERVISOR_CGROUP}. Either:\n` +
        `  - run Warren from a systemd unit with Delegate=yes (then point WARREN_CGROUP_ROOT at the unit's cgroup), or\n` +
        `  - move the shell that starts it: echo $$ | sudo tee ${root}/${SUPERVISOR_CGROUP}/cgroup.procs\n` +
        `Boot-time note: cgroupfs is not persistent; run this command again after a reboot (e.g. from a systemd oneshot unit).\n`,
    );
  } else {
    process.stdout.write(`\ncgroupfs is not persistent: run this command again after a reboot (e.g. from a systemd oneshot unit).\n`);
  }
  process.stdout.write(`Check with: warren doctor (as ${user.name})\n`);
  return 0;
}
