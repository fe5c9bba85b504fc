import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script.js";
import type { QueuedJob } from "./types.js";

/*
 * Warm routing (docs/functions.md, *Distributed: warm routing*): a worker that
 * holds prepared containers for a function version says so in Redis, and an
 * invocation of that version is queued on that worker's own queue instead of
 * the shared one. The adverts and claims are hints: an invocation that
 * reaches a worker whose container is gone runs cold there; nothing's
 * correctness depends on them. What must hold is that nothing queued on a
 * worker's own queue is lost or stuck when that worker goes: every routing
 * worker rescues the queues of the workers whose advert has lapsed.
 */

/** How long a worker's advert lives unless refreshed: past it the worker gets no invocations of its own, and its queue is rescued. */
export const ADVERT_TTL_MS = 5_000;
/** How often a worker refreshes its advert's TTL (it also rewrites it as soon as its warm containers change, checked every ADVERT_POLL_MS). */
export const ADVERT_REFRESH_MS = 1_000;
export const ADVERT_POLL_MS = 100;
/** How often each routing worker looks for lapsed workers' queues to rescue. */
export const RESCUE_MS = 2_000;

/** A worker's advert: a hash of version field → prepared containers ready, `c:` + field → invocations claimed on them; with a TTL. */
export const advertKey = (queue: string, worker: string) => `${queue}:warm-by:${worker}`;
/** The ids of the workers that have (or had) a queue of their own, until it is rescued. */
export const routedKey = (queue: string) => `${queue}:routed`;
/** Which worker's queue an invocation was sent to (cancel finds it there). */
export const routeKey = (queue: string, id: string) => `${queue}:route:${id}`;
/** The BullMQ queue of one worker's routed invocations. */
export const ownQueueName = (queue: string, worker: string) => `${queue}-w-${worker}`;
/** A function version in an advert: the runtime's name (key-scoped: src/run/function-wire.ts runtimeName) and its number. */
export const warmField = (runtimeName: string, number: number) => `${runtimeName}@${number}`;

/** One version a worker holds prepared containers for. */
export interface WarmVersion {
  /** warmField(runtime name, number). */
  readonly field: string;
  readonly ready: number;
}

/**
 * Claims a prepared container of version ARGV[2] on a live worker, or says
 * none. KEYS: [1] the routed set. ARGV: [1] the adverts' key prefix
 * (`<q>:warm-by:`), [2] the version's field, [3] the route key to set,
 * [4] its TTL (ms). The worker with the most unclaimed containers wins; its
 * claims count one more (the worker takes it back when the invocation is
 * done) and the route is noted. Returns the worker's id, or false.
 */
const CLAIM = new RedisScript(`
local best, most = nil, 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. w
  local ready = tonumber(redis.call('HGET', key, ARGV[2]) or '0')
  if ready > 0 then
    local free = ready - tonumber(redis.call('HGET', key, 'c:' .. ARGV[2]) or '0')
    if free > most then best, most = w, free end
  end
end
if best == nil then return false end
redis.call('HINCRBY', ARGV[1] .. best, 'c:' .. ARGV[2], 1)
redis.call('SET', ARGV[3], best, 'PX', ARGV[4])
return best`);

/**
 * Rewrites a worker's advert. KEYS: [1] the advert, [2] the routed set.
 * ARGV: [1] the worker's id, [2] the TTL (ms), [3] a field whose claim is
 * given back ('' none), then field, ready pairs. The claims (`c:` fields)
 * are kept for the versions still advertised; the rest go. An empty advert
 * keeps a field `alive`: its existence is the worker's liveness for the
 * rescuers.
 */
const ADVERTISE = new RedisScript(`
if ARGV[3] ~= '' and redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[1], 'c:' .. ARGV[3]) end
local keep = {}
for i = 4, #ARGV, 2 do keep[ARGV[i]] = ARGV[i + 1] end
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local v = f
  if string.sub(f, 1, 2) == 'c:' then v = string.sub(f, 3) end
  if f ~= 'alive' and keep[v] == nil then redis.call('HDEL', KEYS[1], f) end
end
redis.call('HSET', KEYS[1], 'alive', '1')
for f, n in pairs(keep) do redis.call('HSET', KEYS[1], f, n) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`);

/** Gives back one claim (the invocation was never queued there after all); never below 0. */
const UNCLAIM = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], 'c:' .. ARGV[1]) end
return 1`);

/** The API's side: which worker's queue an invocation goes to. */
export class WarmRouter {
  readonly #redis: Redis;
  readonly #name: string;
  readonly #ttlMs: number;
  readonly #jobOptions: { readonly attempts: number; readonly backoff: { readonly type: "exponential"; readonly delay: number } };
  /** One BullMQ Queue per worker sent to (a few: one per routing worker), on the API's connection. */
  readonly #queues = new Map<string, Queue>();

  /** JOB_OPTIONS: the shared queue's retries of Warren's own failures, the same for routed jobs. */
  constructor(redis: Redis, name: string, routeTtlSeconds: number, jobOptions: { readonly attempts: number; readonly backoff: { readonly type: "exponential"; readonly delay: number } }) {
    this.#redis = redis;
    this.#jobOptions = jobOptions;
    this.#name = name;
    this.#ttlMs = routeTtlSeconds * 1000;
  }

  /**
   * Queues invocation JOB on a worker that advertises a prepared container of
   * FIELD (claiming one), and answers that worker's id; undefined when none
   * does (the caller queues it on the shared queue). Any failure here is a
   * fallback to the shared queue, never the invocation's failure.
   */
  async route(job: QueuedJob, field: string, priority: number): Promise<string | undefined> {
    let worker: string | null;
    try {
      worker = (await CLAIM.run(this.#redis, [routedKey(this.#name)], [`${this.#name}:warm-by:`, field, routeKey(this.#name, job.id), String(this.#ttlMs)])) as string | null;
    } catch {
      return undefined;
    }
    if (worker === null) return undefined;
    try {
      await this.#queueOf(worker).add("run", job, { jobId: job.id, priority });
      return worker;
    } catch {
      await UNCLAIM.run(this.#redis, [advertKey(this.#name, worker)], [field]).catch(() => {});
      await this.#redis.del(routeKey(this.#name, job.id)).catch(() => {});
      return undefined;
    }
  }

  /** The routed job ID, waiting on its worker's queue (removed from it) or running there; undefined when it was not routed or is gone. */
  async take(id: string): Promise<QueuedJob | undefined> {
    const worker = await this.#redis.get(routeKey(this.#name, id));
    if (worker === null) return undefined;
    const job = await this.#queueOf(worker).getJob(id);
    if (job === undefined) return undefined;
    await job.remove().catch(() => {}); // a running one is locked: its worker is told to abort it
    return job.data as QueuedJob;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => {})));
    this.#queues.clear();
  }

  #queueOf(worker: string): Queue {
    let queue = this.#queues.get(worker);
    if (queue === undefined) {
      // Workers come and go (each start is a new id): keep the last few only.
      if (this.#queues.size >= 64) {
        const [oldest, old] = this.#queues.entries().next().value as [string, Queue];
        this.#queues.delete(oldest);
        void old.close().catch(() => {});
      }
      queue = new Queue(ownQueueName(this.#name, worker), { connection: this.#redis, defaultJobOptions: { ...this.#jobOptions, backoff: { ...this.#jobOptions.backoff }, removeOnComplete: true, removeOnFail: true } });
      queue.on("error", () => {});
      this.#queues.set(worker, queue);
    }
    return queue;
  }
}

/** The worker's side: its advert, the claims it gives back, and the rescue of lapsed workers' queues. */
export class WarmAdvertiser {
  readonly #redis: Redis;
  readonly #name: string;
  readonly #id: string;
  readonly #warm: () => readonly WarmVersion[];
  readonly #requeue: (job: QueuedJob, priority: number) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  readonly #liveness: { readonly heartbeatKey: string; readonly aliveMs: number };
  readonly #timers: NodeJS.Timeout[] = [];
  #last = "";
  #lastWritten = 0;
  /** The advert's writes, one after the other. */
  #writes: Promise<void> = Promise.resolve();
  #writing = false;
  #rescuing = false;
  #closed = false;

  /**
   * REQUEUE puts a rescued job on the shared queue (same id, same priority).
   * LIVENESS: the workers' heartbeats (a sorted set of id → time) and how
   * recent one must be: a lapsed worker's queue is deleted only once its
   * heartbeat is gone too.
   */
  constructor(
    redis: Redis,
    name: string,
    id: string,
    warm: () => readonly WarmVersion[],
    requeue: (job: QueuedJob, priority: number) => Promise<void>,
    liveness: { readonly heartbeatKey: string; readonly aliveMs: number },
    onError: (error: unknown) => void = () => {},
  ) {
    this.#redis = redis;
    this.#liveness = liveness;
    this.#name = name;
    this.#id = id;
    this.#warm = warm;
    this.#requeue = requeue;
    this.#onError = onError;
    this.#timers.push(setInterval(() => void this.#advertise(), ADVERT_POLL_MS), setInterval(() => void this.rescue(), RESCUE_MS));
    for (const timer of this.#timers) timer.unref();
    void this.#advertise();
  }

  /** This worker's own queue's name. */
  get queueName(): string {
    return ownQueueName(this.#name, this.#id);
  }

  /**
   * An invocation here is done: the advert is rewritten now (its container
   * was taken; the count must not wait for the next poll), and, routed here
   * (FIELD), its claim given back in the same step. Until then the claim
   * holds: between the container's take and this, the version is counted
   * short (an invocation sent elsewhere), never twice.
   */
  done(field: string | undefined): Promise<void> {
    return this.#write(field ?? "", true);
  }

  /** Stops advertising: the advert goes at once, so no more invocations are sent here. */
  async withdraw(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#redis.del(advertKey(this.#name, this.#id)).catch(() => {});
  }

  /**
   * Moves to the shared queue the jobs of every lapsed worker's queue (no
   * advert: it closed or died), this worker's own once it has withdrawn.
   * Waiting jobs move at once; a running one only once its lock has expired
   * (its worker is dead, as BullMQ's stalled-job check would find it). A
   * queue found empty is deleted, and its worker forgotten, once the worker's
   * heartbeat is gone as well: a worker whose advert lapsed for a moment (a
   * stalled event loop) and comes back must not find its queue deleted under
   * an invocation just routed to it.
   */
  async rescue(): Promise<number> {
    if (this.#rescuing) return 0;
    this.#rescuing = true;
    let moved = 0;
    try {
      const workers = await this.#redis.smembers(routedKey(this.#name));
      for (const worker of workers) {
        if (worker === this.#id && !this.#closed) continue;
        if ((await this.#redis.exists(advertKey(this.#name, worker))) === 1) continue;
        // One rescuer per lapsed worker at a time.
        if ((await this.#redis.set(`${this.#name}:rescue:${worker}`, this.#id, "PX", 30_000, "NX")) !== "OK") continue;
        try {
          moved += await this.#rescueQueue(worker);
        } finally {
          await this.#redis.del(`${this.#name}:rescue:${worker}`);
        }
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#rescuing = false;
    }
    return moved;
  }

  async #rescueQueue(worker: string): Promise<number> {
    const queue = new Queue(ownQueueName(this.#name, worker), { connection: this.#redis });
    queue.on("error", () => {});
    let moved = 0;
    let left = 0;
    try {
      const jobs = await queue.getJobs(["active", "waiting", "prioritized", "delayed", "paused", "waiting-children"]);
      for (const job of jobs) {
        if (job?.id === undefined) continue;
        const state = await job.getState();
        if (state === "active" && (await this.#redis.exists(`${queue.qualifiedName}:${job.id}:lock`)) === 1) {
          left += 1; // its worker still holds it (alive but its advert lapsed, or its lock not yet expired)
          continue;
        }
        // Shared queue first: if this process stops between the two steps, the job is there twice (one run wins the result), never nowhere.
        await this.#requeue(job.data as QueuedJob, job.opts.priority ?? 0);
        await job.remove().catch(() => {
          left += 1;
        });
        moved += 1;
      }
      const beat = await this.#redis.zscore(this.#liveness.heartbeatKey, worker);
      const gone = beat === null || Number(beat) < Date.now() - this.#liveness.aliveMs;
      if (gone && left === 0 && (await queue.count()) === 0) {
        await queue.obliterate({ force: true }).catch(() => {});
        await this.#redis.srem(routedKey(this.#name), worker);
      }
    } finally {
      await queue.close().catch(() => {});
    }
    return moved;
  }

  #advertise(): Promise<void> {
    if (this.#writing) return Promise.resolve(); // the poll does not queue behind a write
    return this.#write("", false);
  }

  #write(unclaim: string, force: boolean): Promise<void> {
    const write = this.#writes.then(async () => {
      if (this.#closed) return;
      const warm = this.#warm().filter((version) => version.ready > 0);
      const text = JSON.stringify(warm);
      const now = Date.now();
      if (!force && text === this.#last && now - this.#lastWritten < ADVERT_REFRESH_MS) return;
      this.#writing = true;
      try {
        const args = warm.flatMap((version) => [version.field, String(version.ready)]);
        await ADVERTISE.run(this.#redis, [advertKey(this.#name, this.#id), routedKey(this.#name)], [this.#id, String(ADVERT_TTL_MS), unclaim, ...args]);
        if (this.#closed) await this.#redis.del(advertKey(this.#name, this.#id));
        this.#last = text;
        this.#lastWritten = now;
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#writing = false;
      }
    });
    this.#writes = write;
    return write;
  }
}
