/* A real registry for the pull tests: Debian's docker-registry on a loopback
 * port with filesystem storage in a temp dir, images pushed to it by Debian's
 * skopeo from OCI layouts built here; and a small node:http front that asks
 * for a Bearer token (issued for basic credentials) before it forwards. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { sha256 } from "./archives.js";

const run = promisify(execFile);

export interface Platform {
  readonly architecture: string;
  readonly layers: readonly Buffer[];
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Writes an OCI layout directory (gzip layers: skopeo would compress plain ones, changing the digests): one image, or an index of one image per platform when there are several. Returns the tagged manifest's digest. */
export function writeOciDir(dir: string, tag: string, platforms: readonly Platform[]): string {
  const blobs = path.join(dir, "blobs", "sha256");
  fs.mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer) => {
    fs.writeFileSync(path.join(blobs, sha256(data)), data);
    return { digest: `sha256:${sha256(data)}`, size: data.length };
  };
  const manifests = platforms.map((platform) => {
    const config = Buffer.from(JSON.stringify({ architecture: platform.architecture, os: "linux", config: { Env: ["PATH=/bin", `ARCH=${platform.architecture}`] }, rootfs: { type: "layers", diff_ids: platform.layers.map((layer) => `sha256:${sha256(layer)}`) } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(config) },
        layers: platform.layers.map((layer) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...put(gzipSync(layer)) })),
      }),
    );
    return { mediaType: "application/vnd.oci.image.manifest.v1+json", ...put(manifest), platform: { os: "linux", architecture: platform.architecture } };
  });
  let top: { mediaType: string; digest: string; size: number };
  if (manifests.length === 1) top = { mediaType: manifests[0]!.mediaType, digest: manifests[0]!.digest, size: manifests[0]!.size };
  else top = { mediaType: "application/vnd.oci.image.index.v1+json", ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }))) };
  fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { "org.opencontainers.image.ref.name": tag } }] }));
  fs.writeFileSync(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  return top.digest;
}

export class TestRegistry {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-registry-"));
  port = 0;
  #process: ChildProcess | undefined;
  #log = "";

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const config = path.join(this.dir, "config.yml");
    fs.writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(this.dir, "data")}\nhttp:\n  addr: ${this.host}\n`);
    const child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    this.#process = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.#log += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.#log += chunk.toString()));
    const spawned = new Promise<never>((_, reject) => child.on("error", (error) => reject(new Error(`docker-registry did not start (apt-get install -y docker-registry skopeo): ${error.message}`))));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await Promise.race([fetch(`http://${this.host}/v2/`).then((r) => r.ok, () => false), spawned]);
      if (ok) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`docker-registry did not come up: ${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** skopeo copy of an OCI layout into the registry as NAME:TAG (all platforms); `compress: "zstd"` recompresses the layers as tar+zstd. */
  async push(layout: string, tag: string, name: string, options: { compress?: "zstd" } = {}): Promise<void> {
    const compress = options.compress === undefined ? [] : ["--dest-compress-format", options.compress];
    await run("skopeo", ["--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false", ...compress, `oci:${layout}:${tag}`, `docker://${this.host}/${name}:${tag}`], { env: { ...process.env, TMPDIR: this.dir } });
  }

  /** The registry's stored file of a blob. */
  blobFile(digest: string): string {
    const hex = digest.slice("sha256:".length);
    return path.join(this.dir, "data", "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A front for `upstream` that wants `Authorization: Bearer TOKEN`, issued by /token for basic USER:PASSWORD; it records Range headers. */
export class TokenFront {
  readonly ranges: string[] = [];
  #server: http.Server | undefined;
  port = 0;

  constructor(
    readonly upstream: string,
    readonly user: string,
    readonly password: string,
  ) {}

  async start(): Promise<void> {
    const token = "t0ken";
    this.#server = http.createServer((request, response) => {
      const url = new URL(request.url ?? "/", `http://127.0.0.1:${this.port}`);
      if (url.pathname === "/token") {
        const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString("base64")}`;
        if (request.headers.authorization !== expected || url.searchParams.get("service") !== "test-registry" || !/^repository:[\w/.-]+:pull$/.test(url.searchParams.get("scope") ?? "")) {
          response.writeHead(401).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
        return;
      }
      if (request.headers.authorization !== `Bearer ${token}`) {
        const scope = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
        response.writeHead(401, { "www-authenticate": `Bearer realm="http://127.0.0.1:${this.port}/token",service="test-registry"${scope === undefined ? "" : `,scope="repository:${scope}:pull"`}` }).end();
        return;
      }
      if (request.headers.range !== undefined) this.ranges.push(request.headers.range);
      const headers = { ...request.headers, host: this.upstream };
      delete headers.authorization;
      const forward = http.request(`http://${this.upstream}${request.url}`, { method: request.method, headers }, (upstream) => {
        response.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(response);
      });
      forward.on("error", () => response.destroy());
      forward.end();
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}
