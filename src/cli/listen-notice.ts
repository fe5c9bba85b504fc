import type { AddressInfo } from "node:net";
import { classifyPlain } from "../net/address-class.js";
import { parseIp } from "../net/ip-address.js";

/** Who can reach a socket bound to `address`: this machine, every interface, or one address. */
export type Reach = "loopback" | "all" | "address";

export function reachOf(address: string): Reach {
  const ip = parseIp(address);
  const kind = ip === undefined ? undefined : classifyPlain(ip).class;
  if (kind === "loopback" || address.startsWith("::ffff:127.")) return "loopback";
  return kind === "unspecified" ? "all" : "address";
}

const urlOf = (bound: AddressInfo) => `http://${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`;

function audience(bound: AddressInfo): string {
  switch (reachOf(bound.address)) {
    case "loopback":
      return "this machine only";
    case "all":
      return `all interfaces: anyone who can reach port ${bound.port}`;
    default:
      return `anyone who can reach ${bound.address} port ${bound.port}`;
  }
}

/**
 * The one line `warren serve` prints when it listens: where, who can reach
 * it, and whether API keys are required — a warning when anyone but this
 * machine can run code without a key.
 */
export function serveNotice(bound: AddressInfo, keysRequired: boolean): string {
  const where = `listening on ${urlOf(bound)} — ${audience(bound)}`;
  if (keysRequired) return `warren serve: ${where}; API keys required`;
  if (reachOf(bound.address) === "loopback") return `warren serve: ${where}; no API keys required`;
  return `warren serve: WARNING: ${where} can run code on this machine; no API keys required (set WARREN_API_KEYS, or listen on 127.0.0.1 with --host)`;
}

/** `warren worker`'s line for its metrics server (never behind keys). */
export function metricsNotice(bound: AddressInfo): string {
  return `warren worker: metrics on ${urlOf(bound)}/metrics — ${audience(bound)}; no keys (/metrics and /healthz are open)`;
}
