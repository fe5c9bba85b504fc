import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// The cache lives under the temp dir, not in node_modules/.vite: the suite must
// also run as an unprivileged user (the rootless proof) from a checkout owned
// by root, where node_modules is not writable.
const uid = typeof process.getuid === "function" ? process.getuid() : 0;
// The cgroup v2 VM runs under software emulation (test/vm): everything is slower there.
const timeScale = Math.max(1, Number(process.env.WARREN_TEST_TIME_SCALE ?? 1) || 1);

export default defineConfig({
  cacheDir: path.join(os.tmpdir(), `warren-vitest-cache-${uid}`),
  test: {
    pool: "forks",
    testTimeout: 60_000 * timeScale,
    hookTimeout: 60_000 * timeScale,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // dist/ up to date with src/: the tests start `warren` as users do, from bin/warren.js (test/helpers/cli.ts)
    globalSetup: ["test/global-setup.ts"],
  },
});
