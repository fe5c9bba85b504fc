import type { Logger } from "pino";
import { deliverBody, type CallbackOptions } from "../../../callback/callback-delivery.js";
import type { JobQueue } from "../../../queue/index.js";
import type { RecordStore } from "../../../queue/record-store.js";
import { isFinal } from "../../../run/result.js";
import { DEFAULT_FIELDS, renderSubmission, type SubmissionRecord } from "./submission.js";

/** Submissions with a callback_url that one API instance waits on at most (each is a token and a URL). */
export const MAX_WATCHED = 100_000;

/**
 * Judge0's callbacks: once a submission's run is final, its submission (the
 * default fields, base64-encoded, as Judge0 sends them) is PUT to its
 * callback_url, by the API instance that took it (workers know nothing of
 * Judge0), with Warren's callback retries and address policy.
 */
export class Judge0Callbacks {
  readonly #queue: JobQueue;
  readonly #logger: Logger;
  readonly #options: CallbackOptions;
  /** token → callback URL and its record's store, until its run is final. */
  readonly #watched = new Map<string, { readonly url: string; readonly records: RecordStore }>();
  #subscription: Promise<() => void> | undefined;

  constructor(queue: JobQueue, logger: Logger, options: CallbackOptions = {}) {
    this.#queue = queue;
    this.#logger = logger;
    this.#options = options;
  }

  /** Subscribes to finished runs, once; call before a run with a callback is queued, so that its end cannot be missed. */
  async ready(): Promise<void> {
    this.#subscription ??= this.#queue.onFinished((id) => {
      if (this.#watched.has(id)) void this.#send(id);
    });
    await this.#subscription;
  }

  /** Watches TOKEN (whose run was just queued): its submission goes to URL once final. */
  async watch(token: string, url: string, records: RecordStore): Promise<void> {
    if (this.#watched.size >= MAX_WATCHED) {
      this.#logger.warn({ runId: token }, "judge0 callback not watched: too many pending callbacks");
      return;
    }
    this.#watched.set(token, { url, records });
    // A run may have finished between its enqueue and this watch.
    const result = await this.#queue.get(token).catch(() => undefined);
    if (result !== undefined && isFinal(result.status)) await this.#send(token);
  }

  async #send(token: string): Promise<void> {
    const watched = this.#watched.get(token);
    if (watched === undefined) return;
    this.#watched.delete(token);
    const { url, records } = watched;
    try {
      const [json, result] = await Promise.all([records.get(token), this.#queue.get(token)]);
      if (json === undefined) return;
      const record = JSON.parse(json) as SubmissionRecord;
      const body = JSON.stringify(renderSubmission(record, result, { base64: true, fields: DEFAULT_FIELDS }));
      await deliverBody(url, { id: token, body, method: "PUT" }, this.#logger, { attempts: 3, timeoutMs: 5_000, ...this.#options });
    } catch (error) {
      this.#logger.warn({ runId: token, err: error }, "judge0 callback not sent");
    }
  }
}
