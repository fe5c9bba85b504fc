import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { WarrenError } from "../errors.js";
import { parseIp } from "../net/ip-address.js";
import { CALLBACK_ALLOW_HINT, isLocalhostName, targetDenial, type CallbackPolicy } from "./callback-policy.js";

/** A callback target the policy refuses: final, not retried. */
export class CallbackDeniedError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("callback_target_denied", message, { details });
  }
}

export interface CallbackRequest {
  readonly url: string;
  /** @defaultValue POST (Judge0's callbacks are PUTs) */
  readonly method?: "POST" | "PUT";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  readonly timeoutMs: number;
  readonly policy: CallbackPolicy;
}

/**
 * POSTs `body` to `url` and resolves with the HTTP status (the answer's body
 * is discarded; redirects are not followed). The policy is enforced on the
 * connection itself: a literal address is judged here (Node never calls
 * `lookup` for one), a name by the lookup of the socket that connects, which
 * drops every denied address it resolves to — so DNS that answers differently
 * between a check and the connect (rebinding) cannot slip past. Each attempt
 * opens a fresh connection (no agent), so each is judged.
 */
export function postCallback(request: CallbackRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    const literal = parseIp(host);
    if (literal !== undefined) {
      const denial = targetDenial(request.policy, literal, port);
      if (denial !== undefined) {
        reject(new CallbackDeniedError(`the callback's address ${denial}; ${CALLBACK_ALLOW_HINT}.`, { host, port }));
        return;
      }
    }
    const send = url.protocol === "https:" ? https.request : http.request;
    const outgoing = send(
      {
        method: request.method ?? "POST",
        host,
        port,
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
        ...(url.username === "" ? {} : { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }),
        agent: false,
        lookup: guardedLookup(request.policy, port),
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

/** dns.lookup, less the addresses the policy refuses; fails with CallbackDeniedError when none is left. */
function guardedLookup(policy: CallbackPolicy, port: number): LookupFunction {
  return (hostname, options, callback) => {
    // localhost names are this machine whatever a resolver says (RFC 6761), as hostDenial judged them at submission.
    const resolve: typeof dns.lookup = isLocalhostName(hostname) ? localhostLookup : dns.lookup;
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) {
        callback(error, "", 0);
        return;
      }
      const denials: string[] = [];
      const allowed = addresses.filter((entry) => {
        const address = parseIp(entry.address);
        const denial = address === undefined ? `${entry.address} is not an address` : targetDenial(policy, address, port);
        if (denial !== undefined) denials.push(denial);
        return denial === undefined;
      });
      const first = allowed[0];
      if (addresses.length === 0) {
        callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: "ENOTFOUND" }), "", 0);
        return;
      }
      if (first === undefined) {
        const listed = addresses.map((entry) => entry.address).join(", ");
        callback(new CallbackDeniedError(`${hostname} resolves only to denied addresses ${listed} (${denials.join("; ")}); ${CALLBACK_ALLOW_HINT}.`, { host: hostname, port, addresses: addresses.map((entry) => entry.address) }), "", 0);
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

/** dns.lookup's answer for a localhost name: the loopback addresses of the families asked for. */
const localhostLookup = ((_hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => {
  const loopback = [
    { address: "127.0.0.1", family: 4 },
    { address: "::1", family: 6 },
  ];
  const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
  process.nextTick(() => callback(null, loopback.filter((entry) => family === undefined || family === 0 || entry.family === family)));
}) as typeof dns.lookup;
