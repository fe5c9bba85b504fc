import type { Context } from "hono";
import { BusyError, InvalidRequestError } from "../errors.js";

/**
 * The request bodies the API is reading and parsing at once, bounded in
 * bytes (WARREN_PENDING_MAX_BYTES): a body is reserved at its declared size
 * (the body limit when it is chunked) before a byte of it is read, and let go
 * once its run is queued or refused. Without it, many large bodies sent at
 * once would each be read and parsed into the heap together. One body always
 * fits, whatever the bound.
 */
export class Admission {
  readonly #maxBytes: number;
  #reserved = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`Expected maxBytes to be positive, got ${maxBytes}.`);
    this.#maxBytes = maxBytes;
  }

  /** Reserves BYTES, or throws BusyError; the returned function lets them go (once). */
  reserve(bytes: number): () => void {
    if (this.#reserved > 0 && this.#reserved + bytes > this.#maxBytes) {
      throw new BusyError(`The API is reading ${Math.ceil(this.#reserved / 2 ** 20)} MiB of requests, the most it holds at once (WARREN_PENDING_MAX_BYTES); retry shortly.`);
    }
    this.#reserved += bytes;
    let held = true;
    return () => {
      if (held) this.#reserved -= bytes;
      held = false;
    };
  }
}

const shared = new WeakMap<object, Admission>();

/**
 * The one Admission of an API, made on first use and keyed by its deps: POST
 * /v1/runs and the sessions' run requests (sessions.ts) draw on one bound.
 */
export function admissionOf(api: object, maxBytes: number): Admission {
  let admission = shared.get(api);
  if (admission === undefined) {
    admission = new Admission(maxBytes);
    shared.set(api, admission);
  }
  return admission;
}

/** A request's JSON body, read under its Admission: `release` lets its bytes go once its run is queued or refused. */
export interface AdmittedBody {
  readonly body: unknown;
  /** The body's size: its declared Content-Length, or the bytes read when it is chunked. */
  readonly bytes: number;
  readonly release: () => void;
}

/**
 * Reserves C's body in ADMISSION at its declared size (BODY_LIMIT_BYTES when
 * it declares none) before a byte of it is read, then reads and parses it;
 * one that is not JSON is NOT_JSON (an InvalidRequestError with DETAILS),
 * and its bytes are let go at once. Otherwise the caller lets them go
 * (`release`, in a finally) once the run is queued or refused.
 */
export async function admitJsonBody(c: Context, admission: Admission, bodyLimitBytes: number, notJson: string, details?: unknown): Promise<AdmittedBody> {
  const declared = Number.parseInt(c.req.header("content-length") ?? "", 10);
  const known = Number.isSafeInteger(declared) && declared >= 0;
  const release = admission.reserve(known ? Math.min(declared, bodyLimitBytes) : bodyLimitBytes);
  try {
    const text = await c.req.text();
    return { body: JSON.parse(text) as unknown, bytes: known ? declared : Buffer.byteLength(text), release };
  } catch {
    release();
    throw new InvalidRequestError(notJson, details);
  }
}
