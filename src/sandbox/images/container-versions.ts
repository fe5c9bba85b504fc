import { containerOptions } from "../container/container-options.js";
import { Container } from "../container/container.js";
import type { SandboxHost } from "../sandbox-host.js";
import type { Image } from "./host-image.js";
import { versionIn } from "./versions.js";

/**
 * Detects the versions of a stored image's languages by running each
 * language's version command inside the image, in one container (the host
 * image's are detected on the host: versions.ts). Fixed versions are taken
 * as they are; "unknown" when a command fails or prints nothing that matches.
 */
export async function detectVersionsInContainer(image: Image, host: Pick<SandboxHost, "cgroups" | "launcher" | "nodeSpawn">): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  const commands = image.languages.filter((language) => !("fixed" in language.version));
  for (const language of image.languages) if ("fixed" in language.version) versions[language.id] = language.version.fixed;
  if (commands.length === 0) return versions;
  const lease = image.acquire?.();
  const container = await Container.create(containerOptions(host, image, { scratchMb: 64 }));
  try {
    for (const language of commands) {
      const how = language.version;
      if ("fixed" in how) continue;
      const result = await container.exec({
        argv: how.command,
        env: { ...image.env },
        limits: { wallTimeMs: 30_000, memoryMb: 1024, processes: 128, outputKb: 64 },
      });
      versions[language.id] = versionIn(`${result.stdout.toString("utf8")}\n${result.stderr.toString("utf8")}`, how.pattern);
    }
  } finally {
    await container.destroy();
    lease?.release();
  }
  return versions;
}
