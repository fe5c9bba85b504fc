import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { ApiOptions } from "../../src/api/context.js";
import type { FunctionRuntime } from "../../src/run/functions.js";
import { testApp, type TestApp } from "../api/fixture.js";

export interface Served {
  readonly t: TestApp;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

/** The real app (embedded queue, a real worker in the real sandbox) served by Node on a free loopback port, as `warren serve` serves it. */
export async function served(options: Partial<ApiOptions> = {}, functions?: FunctionRuntime): Promise<Served> {
  const t = await testApp(options, functions === undefined ? {} : { functions });
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  return {
    t,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}
