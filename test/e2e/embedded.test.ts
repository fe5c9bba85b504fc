import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { freePort } from "../helpers/redis-server.js";
import { postRun, stop, until200, warren } from "./processes.js";

const SOLUTION = `#include <iostream>
int main() { long long a, b; std::cin >> a >> b; if (a == 0) for (;;) {} std::cout << a + b << "\\n"; }
`;

describe("warren serve (embedded: API + in-process queue + worker)", () => {
  let server: ReturnType<typeof warren>;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = warren(["serve", "--port", String(port), "--host", "127.0.0.1"], { REDIS_URL: "" });
    await until200(`${base}/readyz`, server.log);
  });
  afterAll(async () => {
    if (server !== undefined) expect(await stop(server.child)).toBe(0);
  });

  it("judges a C++ solution on three tests with per-test verdicts", async () => {
    const { status, body } = await postRun(
      base,
      {
        language: "cpp",
        files: [{ path: "main.cpp", content: SOLUTION }],
        limits: { wallTimeMs: 2_000, cpuTimeMs: 1_000 },
        tests: [
          { name: "adds", stdin: "1 2\n", expectedOutput: "3\n" },
          { name: "wrong", stdin: "2 2\n", expectedOutput: "5\n" },
          { name: "loops", stdin: "0 1\n", expectedOutput: "1\n" },
        ],
      },
      true,
    );
    expect(status).toBe(200);
    const result = runResultSchema.parse(body);
    expect(result.compile).toMatchObject({ status: "ok", exitCode: 0 });
    expect(result.tests?.map((test) => [test.name, test.verdict])).toEqual([
      ["adds", "accepted"],
      ["wrong", "wrong_answer"],
      ["loops", "time_limit_exceeded"],
    ]);
    expect(result.verdict).toBe("wrong_answer");
  });
});
