import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSandboxHost } from "../../src/sandbox/sandbox-host.js";
import { loadCredentials, parseChallenge } from "../../src/sandbox/images/pull/auth.js";
import { pullImage, type PullOptions } from "../../src/sandbox/images/pull/pull-image.js";
import { parseReference } from "../../src/sandbox/images/pull/reference.js";
import { StoreLayout } from "../../src/sandbox/images/store/layout.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";
import { testSettings } from "../helpers/sandbox.js";
import { sha256, tarOf } from "./archives.js";
import { TestRegistry, TokenFront, writeOciDir } from "./registry-fixture.js";
import { freshStore, listTree } from "./store-fixture.js";
import { warrenBin } from "../helpers/cli.js";

/* `warren image pull` against a real registry (Debian's docker-registry on a
 * loopback port), with images pushed by skopeo from OCI layouts built here. */

const SOURCE = `#include <stdio.h>
int main(void) { int c; puts("hello from a pulled image"); while ((c = getchar()) != EOF) putchar(c); return 0; }`;

const language = { id: "echo", name: "Static echo", aliases: [], extensions: [".txt"], sourceFile: "input.txt", version: { fixed: "1.0" }, compile: null, run: ["/bin/echo-static"] };

const registry = new TestRegistry();
let work: string;
let staticDigest: string;
let corruptLayer: Buffer;
let zstdLayers: Buffer[];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "warren-pull-test-"));
  await registry.start();
  fs.writeFileSync(path.join(work, "main.c"), SOURCE);
  execFileSync("cc", ["-static", "-O2", "-o", path.join(work, "echo-static"), path.join(work, "main.c")]);
  const binary = fs.readFileSync(path.join(work, "echo-static"));
  const base = await tarOf([{ name: "bin/" }, { name: "bin/echo-static", content: binary, mode: 0o755 }, { name: "etc/" }, { name: "etc/old", content: "old" }]);
  const top = await tarOf([{ name: "etc/" }, { name: "etc/.wh.old", content: "" }, { name: "etc/motd", content: "pulled\n" }]);
  staticDigest = writeOciDir(path.join(work, "static"), "1", [{ architecture: "amd64", layers: [base, top] }]);
  await registry.push(path.join(work, "static"), "1", "tools/static");
  // layers of its own: skopeo would reuse blobs the registry already holds for the same content, gzip or not
  zstdLayers = [
    await tarOf([{ name: "bin/" }, { name: "bin/echo-static", content: binary, mode: 0o755 }, { name: "etc/" }, { name: "etc/old", content: "old" }, { name: "etc/zstd", content: "1" }]),
    await tarOf([{ name: "etc/" }, { name: "etc/.wh.old", content: "" }, { name: "etc/motd", content: "pulled, zstd\n" }]),
  ];
  writeOciDir(path.join(work, "static-zstd"), "1", [{ architecture: "amd64", layers: zstdLayers }]);
  await registry.push(path.join(work, "static-zstd"), "1", "tools/static-zstd", { compress: "zstd" });
  writeOciDir(path.join(work, "multi"), "2", [
    { architecture: "arm64", layers: [await tarOf([{ name: "arch", content: "arm64\n" }])] },
    { architecture: "amd64", layers: [await tarOf([{ name: "arch", content: "amd64\n" }])] },
    { architecture: "s390x", layers: [await tarOf([{ name: "arch", content: "s390x\n" }])] },
  ]);
  await registry.push(path.join(work, "multi"), "2", "multi");
  corruptLayer = await tarOf([{ name: "data", content: "x".repeat(5000) }]);
  writeOciDir(path.join(work, "corrupt"), "1", [{ architecture: "amd64", layers: [corruptLayer] }]);
  await registry.push(path.join(work, "corrupt"), "1", "corrupt");
}, 120_000);

afterAll(async () => {
  await registry.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function pull(store: ReturnType<typeof freshStore>, ref: string, name: string, options: PullOptions = {}) {
  return pullImage(store.dataDir, parseReference(ref), (archive, source) => store.store.install(archive, { name, source, format: "oci", languages: [language] }), options);
}

describe("image references and auth parsing", () => {
  it("parses host, repository, tag and digest as docker does", () => {
    expect(parseReference("127.0.0.1:5000/python:3.11")).toEqual({ registry: "127.0.0.1:5000", repository: "python", tag: "3.11", digest: undefined });
    expect(parseReference("python")).toEqual({ registry: "registry-1.docker.io", repository: "library/python", tag: "latest", digest: undefined });
    expect(parseReference(`localhost/a/b@sha256:${"a".repeat(64)}`)).toMatchObject({ registry: "localhost", repository: "a/b", tag: undefined, digest: `sha256:${"a".repeat(64)}` });
    expect(() => parseReference("Bad/Name")).toThrow(/not valid/);
    expect(() => parseReference("x@sha256:12")).toThrow(/digest/);
  });

  it("parses Bearer challenges and docker-config-like credentials files", () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" },
    });
    const file = path.join(work, "auth.json");
    fs.writeFileSync(file, JSON.stringify({ auths: { "127.0.0.1:9": { auth: Buffer.from("me:se:cret").toString("base64") }, "https://other": { username: "u", password: "p" } } }));
    expect(loadCredentials("127.0.0.1:9", file)).toEqual({ username: "me", password: "se:cret" });
    expect(loadCredentials("other", file)).toEqual({ username: "u", password: "p" });
    expect(loadCredentials("nowhere", file)).toBeUndefined();
    expect(loadCredentials("x", path.join(work, "missing.json"))).toBeUndefined();
  });
});

describe("warren image pull from a registry", () => {
  it("pulls by tag, applies the layers (whiteouts too), then by digest reuses the content; a program runs in it", async () => {
    const fixture = freshStore();
    try {
      const seen: number[] = [];
      const pulled = await pull(fixture, `${registry.host}/tools/static:1`, "static", { onProgress: (p) => seen.push(p.bytes) });
      expect(pulled.manifestDigest).toBe(staticDigest);
      expect(pulled.reused).toBe(false);
      expect(pulled.record).toMatchObject({ name: "static", source: { kind: "pull", detail: `${registry.host}/tools/static:1 (${staticDigest})` }, env: { PATH: "/bin", ARCH: "amd64" } });
      expect(pulled.content.diffIds).toHaveLength(2);
      const rootfs = fixture.store.require("static").rootfs;
      expect(fs.readFileSync(path.join(rootfs, "etc/motd"), "utf8")).toBe("pulled\n");
      expect(fs.existsSync(path.join(rootfs, "etc/old"))).toBe(false);
      expect(seen.at(-1)).toBeGreaterThan(0);
      expect(fs.readdirSync(new StoreLayout(fixture.dataDir).downloadsDir)).toEqual([]);

      const byDigest = await pull(fixture, `${registry.host}/tools/static@${staticDigest}`, "static2");
      expect(byDigest).toMatchObject({ reused: true, record: { digest: pulled.record.digest } });

      const sandbox = await openSandboxHost(testSettings({ WARREN_DATA_DIR: fixture.dataDir }).sandbox, { reapStale: false });
      const job = jobSpecFromBody({ language: "echo", image: "static", files: [{ path: "input.txt", content: "" }], stdin: "ping\n" }, { languages: sandbox.catalog.languages() });
      const result = await runJob(job, sandbox);
      expect(result, JSON.stringify(result)).toMatchObject({ status: "completed", run: { status: "ok", exitCode: 0, stdout: "hello from a pulled image\nping\n" } });
    } finally {
      fixture.cleanup();
    }
  });

  it("pulls an image whose layers are tar+zstd (skopeo --dest-compress-format zstd)", async () => {
    const manifest = (await (await fetch(`http://${registry.host}/v2/tools/static-zstd/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as { layers: { mediaType: string }[] };
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual(Array(2).fill("application/vnd.oci.image.layer.v1.tar+zstd"));
    const fixture = freshStore();
    try {
      const pulled = await pull(fixture, `${registry.host}/tools/static-zstd:1`, "static-zstd");
      expect(pulled.content.diffIds).toEqual(zstdLayers.map((layer) => sha256(layer)));
      const rootfs = fixture.store.require("static-zstd").rootfs;
      expect(fs.readFileSync(path.join(rootfs, "etc/motd"), "utf8")).toBe("pulled, zstd\n");
      expect(fs.existsSync(path.join(rootfs, "etc/old"))).toBe(false);
      expect(fs.readFileSync(path.join(rootfs, "bin/echo-static")).equals(fs.readFileSync(path.join(work, "echo-static")))).toBe(true);
    } finally {
      fixture.cleanup();
    }
  });

  it("picks linux/amd64 from an index of several platforms", async () => {
    const fixture = freshStore();
    try {
      const pulled = await pull(fixture, `${registry.host}/multi:2`, "multi");
      expect(pulled.record.env).toMatchObject({ ARCH: "amd64" });
      expect(fs.readFileSync(path.join(fixture.store.require("multi").rootfs, "arch"), "utf8")).toBe("amd64\n");
    } finally {
      fixture.cleanup();
    }
  });

  it("refuses a blob whose bytes do not match its digest, and stores nothing", async () => {
    const fixture = freshStore();
    const file = registry.blobFile(`sha256:${sha256(gzipSync(corruptLayer))}`);
    const original = fs.readFileSync(file);
    try {
      const bad = Buffer.from(original);
      const middle = Math.floor(bad.length / 2);
      bad[middle] = bad[middle]! ^ 0xff; // same size, other bytes
      fs.writeFileSync(file, bad);
      await expect(pull(fixture, `${registry.host}/corrupt:1`, "corrupt")).rejects.toMatchObject({ code: "image_corrupt", message: expect.stringMatching(/layer 1 .*does not match its digest/) });
      expect(fixture.store.list()).toEqual([]);
      expect(listTree(fixture.store.layout.contentRoot)).toEqual([]);
      // the bad blob is gone, partial or whole; another blob's download cut short by the
      // failure may keep its .partial file, on purpose: the next pull resumes it
      expect(listTree(new StoreLayout(fixture.dataDir).downloadsDir).filter((entry) => entry.includes(sha256(gzipSync(corruptLayer))))).toEqual([]);
    } finally {
      fs.writeFileSync(file, original);
      fixture.cleanup();
    }
  });

  it("says clearly when the manifest does not exist (404) or the registry cannot be reached", async () => {
    const fixture = freshStore();
    try {
      await expect(pull(fixture, `${registry.host}/tools/static:nope`, "x")).rejects.toMatchObject({ code: "registry_not_found", message: expect.stringMatching(/no manifest .*tools\/static:nope \(404\)/) });
      await expect(pull(fixture, `${registry.host}/missing/repo:1`, "x")).rejects.toMatchObject({ code: "registry_not_found" });
      await expect(pull(fixture, "127.0.0.1:9/x:1", "x")).rejects.toMatchObject({ code: "registry_unreachable" });
      expect(fixture.store.list()).toEqual([]);
    } finally {
      fixture.cleanup();
    }
  });

  it("gets a Bearer token with the basic credentials it has, resumes a partial download with a Range request, and reports refused credentials", async () => {
    const front = new TokenFront(registry.host, "alice", "s3cret");
    await front.start();
    const fixture = freshStore();
    try {
      const ref = `127.0.0.1:${front.port}/corrupt:1`;
      await expect(pull(fixture, ref, "corrupt")).rejects.toMatchObject({ code: "registry_auth_failed", message: expect.stringMatching(/refused anonymous access/) });
      await expect(pull(fixture, ref, "corrupt", { credentials: { username: "alice", password: "wrong" } })).rejects.toMatchObject({ code: "registry_auth_failed", message: expect.stringMatching(/"alice"/) });
      const downloads = new StoreLayout(fixture.dataDir).downloadsDir;
      fs.mkdirSync(downloads, { recursive: true });
      const blob = gzipSync(corruptLayer);
      fs.writeFileSync(path.join(downloads, `${sha256(blob)}.partial`), blob.subarray(0, 30));
      const pulled = await pull(fixture, ref, "corrupt", { credentials: { username: "alice", password: "s3cret" } });
      expect(pulled.content.diffIds).toEqual([sha256(corruptLayer)]);
      expect(front.ranges).toEqual(["bytes=30-"]);
    } finally {
      await front.stop();
      fixture.cleanup();
    }
  });
});

/** `warren image pull …` as a person runs it (stderr is not a TTY here: plain progress lines). */
async function cli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [warrenBin(), "image", "pull", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { status, stdout, stderr };
}

describe("the warren image pull command", () => {
  it("pulls with the credentials of $WARREN_REGISTRY_AUTH, names the image after the repository, and fails with exit 1 and a clear message", async () => {
    const front = new TokenFront(registry.host, "bob", "pw");
    await front.start();
    const fixture = freshStore();
    try {
      const auth = path.join(work, "cli-auth.json");
      fs.writeFileSync(auth, JSON.stringify({ auths: { [`127.0.0.1:${front.port}`]: { auth: Buffer.from("bob:pw").toString("base64") } } }));
      const env = { WARREN_DATA_DIR: fixture.dataDir, WARREN_REGISTRY_AUTH: auth };
      const ok = await cli([`127.0.0.1:${front.port}/multi:2`], env);
      expect(ok, ok.stderr).toMatchObject({ status: 0, stdout: expect.stringMatching(/^multi: sha256:[0-9a-f]{64}\n  oci, /) });
      expect(ok.stderr).toMatch(/^pulling 127\.0\.0\.1:\d+\/multi:2: \d\/2 blobs/);
      expect(fixture.store.get("multi")?.record.source.kind).toBe("pull");
      const missing = await cli([`127.0.0.1:${front.port}/multi:9`, "--name", "m9"], env);
      expect(missing).toMatchObject({ status: 1, stderr: expect.stringMatching(/has no manifest .*multi:9 \(404\)/) });
      const refused = await cli([`127.0.0.1:${front.port}/multi:2`], { ...env, WARREN_REGISTRY_AUTH: path.join(work, "none.json") });
      expect(refused).toMatchObject({ status: 1, stderr: expect.stringMatching(/refused anonymous access/) });
      const usage = await cli(["Not/Valid"], env);
      expect(usage.status).toBe(2);
    } finally {
      await front.stop();
      fixture.cleanup();
    }
  });
});
