import type { Bind } from "./launch-args.js";
import type { ContainerOptions } from "./container.js";

/** What a container takes from the host it runs on (SandboxHost's fields). */
export interface ContainerHost {
  readonly cgroups: readonly string[];
  readonly launcher?: string;
  readonly nodeSpawn?: boolean;
  /** WARREN_BIND_PROC: every container's /proc is the launcher's own, bound. */
  readonly bindProc?: boolean;
}

/**
 * The options of a container of IMAGE on HOST: the image's root and binds
 * (and `extraBinds`), the host's cgroups and launcher, with the scratch size
 * and the files given. Every container Warren makes is made from these.
 */
export function containerOptions(
  host: ContainerHost,
  image: { readonly rootfs: string; readonly binds: readonly Bind[] },
  container: Pick<ContainerOptions, "scratchMb" | "files" | "zygoteHost"> & { readonly extraBinds?: readonly Bind[] },
): ContainerOptions {
  return {
    rootfs: image.rootfs,
    binds: container.extraBinds === undefined ? image.binds : [...image.binds, ...container.extraBinds],
    cgroups: host.cgroups,
    ...(container.scratchMb === undefined ? {} : { scratchMb: container.scratchMb }),
    ...(container.files === undefined ? {} : { files: container.files }),
    ...(container.zygoteHost === true ? { zygoteHost: true } : {}),
    ...(host.launcher === undefined ? {} : { launcher: host.launcher }),
    nodeSpawn: host.nodeSpawn === true,
    ...(host.bindProc === true ? { bindProc: true } : {}),
  };
}
