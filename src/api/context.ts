import type { Logger } from "pino";
import type { JobQueue, QueueHealth } from "../queue/index.js";
import type { ImageInfo } from "../sandbox/images/image-info.js";
import type { Language } from "../sandbox/images/languages.js";
import type { CallbackOptions } from "../callback/callback-delivery.js";
import type { Limits } from "../run/limits.js";
import type { Metrics } from "../telemetry/metrics.js";

/** What the API needs from the rest of Warren. */
export interface ApiDeps {
  readonly queue: JobQueue;
  /** The languages of every installed image, now (images come and go while the server runs). */
  readonly languages: () => readonly Language[];
  /** The installed images, now. */
  readonly images: () => readonly ImageInfo[];
  /** For /readyz: the queue answers and a sandbox can start (here, or on a live worker). */
  readonly ready: () => Promise<QueueHealth>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly options: ApiOptions;
  /**
   * Callbacks: `policy` judges a callbackUrl at submission; the rest says how
   * the API sends the webhook of each run it cancels, queued or running (the
   * cancel stores the run's final result, so no worker reports it). Workers
   * send the webhook of every result they store.
   */
  readonly callback?: CallbackOptions;
}

export interface ApiOptions {
  /** WARREN_API_KEYS; empty: no auth. */
  readonly apiKeys: readonly string[];
  /** Requests per minute per key (WARREN_RATE_LIMIT); 0 turns it off. @defaultValue 600 */
  readonly rateLimitPerMinute: number;
  /** WARREN_MAX_BODY_BYTES. @defaultValue 32 MiB */
  readonly bodyLimitBytes: number;
  /** WARREN_PENDING_MAX_BYTES: request bodies read at once (and, embedded, queued). @defaultValue 256 MiB */
  readonly pendingMaxBytes?: number;
  /** How long `?wait=true` waits (WARREN_WAIT_MS). @defaultValue 30 s */
  readonly waitMs: number;
  /** The compatible APIs served beside /v1 (WARREN_COMPAT; docs/compat.md). @defaultValue none */
  readonly compat?: readonly ("judge0" | "piston")[];
  readonly maxima: Limits;
  /** The ports this API listens on (callbackUrl must not point back at them). */
  readonly ports: readonly number[];
  readonly version: string;
  /**
   * An event stream whose client takes nothing for this long while events
   * wait to be sent is cut (it may reconnect with Last-Event-ID). @defaultValue 60 s
   */
  readonly eventStallMs?: number;
  /**
   * How often a session's client is pinged (WebSocket ping): one that has not
   * answered the last ping by the next is cut, and its run cancelled.
   * @defaultValue 15 s
   */
  readonly sessionPingMs?: number;
}

export type AppEnv = { Variables: { apiKey: string } };
