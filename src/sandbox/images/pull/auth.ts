import fs from "node:fs";
import { z } from "zod";
import { InvalidRequestError } from "../../../errors.js";

/** A user name and password for one registry (basic auth, or for its token endpoint). */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const authFileSchema = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({
        auth: z.string().optional().describe("base64(user:password), as docker's config.json"),
        username: z.string().optional().describe("User name (instead of auth)"),
        password: z.string().optional().describe("Password (instead of auth)"),
      }),
    )
    .describe("Registry host[:port] → credentials"),
});

/**
 * The credentials for `registry` from a docker-config-like file
 * (`{"auths":{"HOST":{"auth":"base64(user:pass)"}}}`): `$WARREN_REGISTRY_AUTH`,
 * else `$XDG_CONFIG_HOME/warren/auth.json` (ImageSettings.registryAuthFile).
 * Undefined when the file or the entry is missing; a file that does not
 * parse is an error.
 */
export function loadCredentials(registry: string, file: string): Credentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InvalidRequestError(`Cannot read the registry credentials file ${file}: ${(error as Error).message}`);
  }
  let parsed;
  try {
    parsed = authFileSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new InvalidRequestError(`The registry credentials file ${file} is not valid (expected {"auths":{"HOST":{"auth":"base64(user:password)"}}}): ${(error as Error).message}`);
  }
  const keys = [registry, `https://${registry}`, `http://${registry}`, ...(registry === "registry-1.docker.io" ? ["docker.io", "index.docker.io", "https://index.docker.io/v1/"] : [])];
  for (const key of keys) {
    const entry = parsed.auths[key];
    if (entry === undefined) continue;
    if (entry.auth !== undefined) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new InvalidRequestError(`The credentials for ${registry} in ${file} are not base64(user:password).`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** A `WWW-Authenticate` challenge: its scheme and parameters (realm, service, scope…). */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (the first challenge of the header). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  const param = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2]!;
  param.lastIndex = 0;
  for (let found = param.exec(rest); found !== null && found[0] !== ""; found = param.exec(rest)) {
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, "$1") : (found[3] ?? "");
  }
  return { scheme: match[1]!.toLowerCase(), params };
}
