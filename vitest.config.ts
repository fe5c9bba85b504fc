import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// The cache lives under the temp dir, not in node_modules/.vite: the suite must
// also run as an unprivileged user (the rootless proof) from a checkout owned
// by root, where node_modules is not writable.
const uid = typeof process.getuid === "function" ? process.getuid() : 0;

export default defineConfig({
  cacheDir: path.join(os.tmpdir(), `warren-vitest-cache-${uid}`),
  test: {
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
