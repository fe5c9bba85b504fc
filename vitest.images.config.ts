import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// `npm run test:images`: the languages of the built images (test/images/built-images.suite.ts).
// Apart from `npm test`: it needs built images (or builds them: WARREN_BUILD_IMAGES), which takes minutes.
const uid = typeof process.getuid === "function" ? process.getuid() : 0;

export default defineConfig({
  cacheDir: path.join(os.tmpdir(), `warren-vitest-cache-${uid}`),
  test: {
    pool: "forks",
    testTimeout: 600_000,
    hookTimeout: 3_600_000,
    include: ["test/images/*.suite.ts"],
  },
});
