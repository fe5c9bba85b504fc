// Functions through the embedded queue: deploy, read, invoke, delete (docs/api-extensions.md, *Functions*).
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueConfig } from "../../src/queue/config.js";
import { describe, expect, it } from "vitest";
import { testApp } from "./fixture.js";
import { functionsContract } from "./functions.case.js";

functionsContract("embedded", async (env) => new MemoryQueue(queueConfig({ WARREN_CONCURRENCY: "2", ...env })));

describe("functions in the OpenAPI document", () => {
  it("lists the functions' paths, with the deploy body generated from its schema", async () => {
    const t = await testApp({}, { worker: false });
    try {
      const doc = (await (await t.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/functions", "/v1/functions/{name}", "/v1/functions/{ref}/invoke", "/v1/invocations/{id}"]));
      expect(Object.keys(doc.paths["/v1/functions/{name}"]?.put?.requestBody?.content["application/json"]?.schema.properties ?? {})).toEqual(
        expect.arrayContaining(["language", "files", "handler", "mode", "env", "limits", "version"]),
      );
    } finally {
      await t.close();
    }
  });
});
