import { ImageNotFoundError } from "../errors.js";
import type { Image } from "../sandbox/images/host-image.js";
import type { SandboxHost } from "../sandbox/sandbox-host.js";

/** The installed image called `name` (only the default image when the host has no catalog). */
export function imageOf(host: SandboxHost, name: string): Image {
  if (host.catalog !== undefined) return host.catalog.find(name);
  if (host.image.name === name) return host.image;
  throw new ImageNotFoundError(name, [host.image.name]);
}
