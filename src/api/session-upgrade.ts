import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import { InvalidRequestError } from "../errors.js";
import type { RateLimiter } from "../queue/index.js";
import { bearerKey, keyCheck } from "./auth.js";
import { errorAnswer, INTERNAL_ERROR_BODY, NotFoundError, RateLimitedError } from "./errors.js";

/** Where sessions are opened (docs/api-extensions.md, *Sessions*). */
export const SESSIONS_PATH = "/v1/sessions";
/** The subprotocol a client offers beside its key (`warren.key.KEY`), and the one the server answers with. */
export const SESSION_PROTOCOL = "warren.session.v1";
const KEY_PROTOCOL = "warren.key.";

export interface UpgradeOptions {
  readonly apiKeys: readonly string[];
  readonly rateLimitPerMinute: number;
  readonly limiter: RateLimiter;
  /** The largest message a client may send (the run request: WARREN_MAX_BODY_BYTES). */
  readonly maxPayload: number;
  readonly logger: Logger;
}

type Upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;

/** The WebSocket paths of each server, and their upgrades: one "upgrade" listener per server answers them all. */
const upgradesOf = new WeakMap<Server, Map<string, Upgrade>>();

/** Routes SERVER's upgrades of PATH to UPGRADE; an upgrade of a path no one took is a 404. */
function routeUpgrades(server: Server, path: string, upgrade: Upgrade, logger: Logger): void {
  let routes = upgradesOf.get(server);
  if (routes === undefined) {
    const table = new Map<string, Upgrade>();
    routes = table;
    upgradesOf.set(server, table);
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => {}); // a client gone before the answer
      const pathname = new URL(request.url ?? "/", "http://warren").pathname;
      const route =
        table.get(pathname) ??
        (async () => {
          throw new NotFoundError(`No such endpoint: ${request.method ?? "GET"} ${pathname} (WebSocket upgrades are for ${[...table.keys()].join(", ")}).`);
        });
      route(request, socket, head).catch((error: unknown) => refuse(socket, error, logger));
    });
  }
  routes.set(path, upgrade);
}

/**
 * Takes the HTTP server's upgrades of PATH: it becomes a WebSocket once its
 * key and rate limit pass (the checks of the rest of /v1), every refusal a
 * plain HTTP answer in API.md's error shape. The key comes as
 * `Authorization: Bearer KEY` or, for browsers (which cannot set headers on
 * a WebSocket), as the subprotocol `warren.key.KEY` offered beside
 * `warren.session.v1`; the server answers with `warren.session.v1`, never
 * the key, and logs neither. Other paths of the same server may be taken by
 * other calls (Piston's /piston/api/v2/connect beside /v1/sessions). Returns
 * the WebSocket server (to close it).
 */
export function acceptWebSockets(server: Server, path: string, options: UpgradeOptions, open: (ws: WebSocket, apiKey: string, requestUrl: string) => void): WebSocketServer {
  const check = keyCheck(options.apiKeys);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload,
    // No compression: a small compressed message could inflate to maxPayload (and costs CPU per message).
    perMessageDeflate: false,
    // Never echo a key: only the session protocol is selected (a browser fails a handshake that selects none it offered).
    handleProtocols: (offered) => (offered.has(SESSION_PROTOCOL) ? SESSION_PROTOCOL : false),
  });
  routeUpgrades(
    server,
    path,
    async (request, socket, head) => {
      const offered = (request.headers["sec-websocket-protocol"] ?? "").split(",").map((value) => value.trim()).filter((value) => value !== "");
      const keyProtocols = offered.filter((value) => value.startsWith(KEY_PROTOCOL));
      if (keyProtocols.length > 0 && !offered.includes(SESSION_PROTOCOL)) {
        throw new InvalidRequestError(`Offer the subprotocol ${SESSION_PROTOCOL} beside ${KEY_PROTOCOL}KEY: the server answers with it (never with the key).`);
      }
      const key = bearerKey(request.headers.authorization) ?? keyProtocols[0]?.slice(KEY_PROTOCOL.length);
      check?.(key);
      const apiKey = check === undefined ? "anonymous" : (key as string);
      if (options.rateLimitPerMinute > 0) {
        const decision = await options.limiter.take(apiKey, options.rateLimitPerMinute);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, options.rateLimitPerMinute);
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(request, socket, head, (ws) => open(ws, apiKey, `http://${request.headers.host ?? "warren"}${path}`));
    },
    options.logger,
  );
  return wss;
}

/** GET /v1/sessions's upgrades (acceptWebSockets on SESSIONS_PATH). */
export function acceptSessions(server: Server, options: UpgradeOptions, open: (ws: WebSocket, apiKey: string, requestUrl: string) => void): WebSocketServer {
  return acceptWebSockets(server, SESSIONS_PATH, options, open);
}

/** Answers an upgrade that is refused with a plain HTTP answer (API.md's error body), and closes the connection. */
function refuse(socket: Duplex, error: unknown, logger: Logger): void {
  const answer = errorAnswer(error);
  if (answer === undefined) logger.error({ err: error }, "unexpected error in a session's upgrade");
  else if (answer.status >= 500) logger.warn({ code: answer.body.error.code, err: error }, answer.body.error.message);
  const status = answer?.status ?? 500;
  const body = Buffer.from(JSON.stringify(answer?.body ?? INTERNAL_ERROR_BODY));
  const retry = answer?.retryAfterSeconds === undefined ? "" : `Retry-After: ${answer.retryAfterSeconds}\r\n`;
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${retry}Connection: close\r\n\r\n${body.toString("utf8")}`);
}
