#!/usr/bin/env node
// The `warren` command. The TypeScript sources are compiled to ../dist by
// `npm run build` (run by `npm ci` through the `prepare` script).
import "../dist/cli/main.js";
