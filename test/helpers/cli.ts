/* The `warren` command as a user runs it: node on bin/warren.js, which loads
 * the compiled dist/ (`npm ci` builds it; test/global-setup.ts rebuilds it
 * when a source is newer). Not the sources through tsx: tsx transforms each
 * module at every start (about 0.5 s more per command on this machine, many
 * times that in the cgroup v2 VM's software emulation), and its loader once
 * crashed there in its WebAssembly import lexer ("memory access out of
 * bounds", CI of stop 28), a failure of the test's tooling, not of Warren. */
import path from "node:path";

export const repo = path.resolve(import.meta.dirname, "../..");

/** bin/warren.js of CHECKOUT (this one by default). */
export function warrenBin(checkout = repo): string {
  return path.join(checkout, "bin/warren.js");
}

/** `warren ARGS` as an argv: this node on this checkout's bin/warren.js. */
export function warrenArgv(args: readonly string[], checkout = repo): string[] {
  return [process.execPath, warrenBin(checkout), ...args];
}

/** The compiled module of src/REL (e.g. "sandbox/cgroup/probe.ts") as a file: URL, for a child's import(). */
export function distModule(rel: string): string {
  return new URL(`file://${path.join(repo, "dist", rel.replace(/\.ts$/, ".js"))}`).href;
}
