import fs from "node:fs";
import path from "node:path";
import type { Bind } from "../container/launch-args.js";
import { ImageError } from "../../errors.js";
import type { ImageRecipe } from "./schema.js";

/** What the host image's generated root holds. Pure data: hashed to tell whether a built one is current. */
export interface SkeletonPlan {
  readonly dirs: readonly string[];
  /** Empty files: mount points for file binds. */
  readonly files: readonly string[];
  readonly symlinks: readonly { readonly path: string; readonly target: string }[];
  readonly generated: readonly { readonly path: string; readonly content: string }[];
  /** The binds the launcher makes on top of it. */
  readonly binds: readonly Bind[];
}

/** The sandbox users (the launcher's default --uid/--gid is 1000). */
const PASSWD = "root:x:0:0:root:/root:/bin/sh\nbox:x:1000:1000:box:/box:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nbox:x:1000:\nnogroup:x:65534:\n";

/**
 * Plans the skeleton for a `host` recipe on this host: merged-usr top-level
 * dirs become the same symlinks as on the host (else binds); optional binds
 * whose source is missing are dropped; every bind gets its mount point.
 */
export function planSkeleton(recipe: ImageRecipe, lstat: (file: string) => fs.Stats | undefined = lstatOrUndefined): SkeletonPlan {
  const dirs = new Set(["proc", "dev", "tmp", "box", "etc", "root", "run", "var", "var/tmp", "home"]);
  const files: string[] = [];
  const symlinks: { path: string; target: string }[] = [];
  const binds: Bind[] = [];
  const addBind = (bind: Bind, isDir: boolean) => {
    binds.push(bind);
    const rel = bind.target.replace(/^\/+/, "");
    for (let dir = path.dirname(rel); dir !== "."; dir = path.dirname(dir)) dirs.add(dir);
    if (isDir) dirs.add(rel);
    else files.push(rel);
  };
  const rootfs = recipe.rootfs;
  if (rootfs.kind !== "host") throw new ImageError(`Image ${recipe.name} is built (rootfs kind ${rootfs.kind}), not made from the host: \`warren image build ${recipe.name}\`.`);
  for (const bind of rootfs.binds) {
    const stat = lstat(bind.source);
    if (stat === undefined && bind.optional) continue;
    addBind({ source: bind.source, target: bind.target, optional: bind.optional }, stat === undefined || stat.isDirectory() || stat.isSymbolicLink());
  }
  for (const top of rootfs.usrMerged) {
    const stat = lstat(top);
    if (stat === undefined) continue;
    if (stat.isSymbolicLink()) {
      const target = fs.readlinkSync(top);
      const resolved = path.resolve(path.dirname(top), target);
      if (resolved === "/usr" || resolved.startsWith("/usr/")) {
        symlinks.push({ path: top.replace(/^\/+/, ""), target });
        continue;
      }
    }
    addBind({ source: top, target: top, optional: true }, true);
  }
  const generated = [
    { path: "etc/passwd", content: PASSWD },
    { path: "etc/group", content: GROUP },
    { path: "etc/hostname", content: "warren\n" },
    { path: "etc/hosts", content: "127.0.0.1 localhost warren\n::1 localhost ip6-localhost ip6-loopback\n" },
    { path: "etc/nsswitch.conf", content: "passwd: files\ngroup: files\nshadow: files\nhosts: files\n" },
  ];
  return {
    dirs: [...dirs].sort(),
    files: files.filter((file) => !generated.some((entry) => entry.path === file)).sort(),
    symlinks,
    generated,
    binds,
  };
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}
