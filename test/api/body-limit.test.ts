import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorSchema } from "../../src/api/answer-schemas.js";
import { stop, until200, warren } from "../e2e/processes.js";
import { freePort } from "../helpers/redis-server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const LIMIT = 4 * MiB;
/** What body-drain.ts reads of a refused body: min(4 × the limit, 64 MiB). */
const DRAIN = 16 * MiB;

interface ClientOutcome {
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  readonly sent?: number;
}

/** Python's urllib (stdlib) POSTing SIZE bytes: it writes the whole body before it reads the answer. */
function urllibPost(url: string, size: number, mode: "length" | "chunked" = "length"): Promise<ClientOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [path.join(here, "big-body-client.py"), url, String(size), mode], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`big-body-client.py exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as ClientOutcome);
    });
  });
}

describe(`413 to clients that write the whole body first (real warren serve, WARREN_MAX_BODY_BYTES=${LIMIT})`, () => {
  let server: ReturnType<typeof warren>;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/v1/runs`;
    server = warren(["serve", "--port", String(port), "--host", "127.0.0.1"], { REDIS_URL: "", WARREN_POOL_SIZE: "0", WARREN_MAX_BODY_BYTES: String(LIMIT) });
    await until200(`http://127.0.0.1:${port}/healthz`, server.log, 45_000);
  });
  afterAll(async () => {
    if (server !== undefined) expect(await stop(server.child)).toBe(0);
  });

  const expect413 = (outcome: ClientOutcome) => {
    expect(outcome).toMatchObject({ status: 413 });
    expect(errorSchema.parse(JSON.parse(outcome.body ?? "")).error).toMatchObject({ code: "payload_too_large", message: expect.stringContaining(`${LIMIT} bytes`) });
  };

  it.each([LIMIT + 4 * MiB, LIMIT + 10 * MiB])("a declared body of %i bytes: urllib reads the 413 JSON, not a broken pipe", async (size) => {
    expect413(await urllibPost(url, size));
  });

  it.each([LIMIT + 4 * MiB, LIMIT + 10 * MiB])("a chunked body of %i bytes: the same", async (size) => {
    expect413(await urllibPost(url, size, "chunked"));
  });

  it("the same for other answers given before the body is read (404 here)", async () => {
    const outcome = await urllibPost(url.replace("/v1/runs", "/v1/nothing"), LIMIT + 4 * MiB);
    expect(outcome.status).toBe(404);
    expect(errorSchema.parse(JSON.parse(outcome.body ?? "")).error.code).toBe("not_found");
  });

  it("a body under the limit is still taken, chunked or not", async () => {
    expect(await urllibPost(url, LIMIT / 2)).toMatchObject({ status: 202 });
    expect(await urllibPost(url, LIMIT / 2, "chunked")).toMatchObject({ status: 202 });
  });

  it("a body far past the drain bound is cut off, not read", async () => {
    const total = 256 * MiB;
    const declared = await urllibPost(url, total);
    expect(declared.error).toMatch(/^(BrokenPipeError|ConnectionResetError)$/);
    const chunked = await urllibPost(url, total, "chunked");
    expect(chunked.error).toMatch(/^(BrokenPipeError|ConnectionResetError)$/);
    // what it could send: the limit, the drain bound and the two sockets' buffers; far from all of it
    expect(chunked.sent).toBeLessThan(LIMIT + DRAIN + 32 * MiB);
  });

  it("a client that stops sending mid-body gets the 413 and the connection closed (the drain is bounded in time too)", async () => {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    socket.write(`POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + MiB}\r\n\r\n`);
    socket.write(Buffer.alloc(MiB, 0x20)); // and then nothing more: a client that holds the connection
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(answer).toContain('"code":"payload_too_large"');
  });
});
