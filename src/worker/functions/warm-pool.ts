import { WarrenError } from "../../errors.js";
import type { FunctionVersion } from "../../run/functions.js";
import type { PreparedBudget } from "../../sandbox/container/prepared-budget.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import { Prepared } from "./invocation.js";
import type { FunctionPlan } from "./plan.js";

export interface WarmPoolOptions {
  /** Most prepared containers per function version. */
  readonly maxPerVersion: number;
  /** A version not invoked for this long loses its prepared containers. */
  readonly idleMs: number;
  /** A prepared container older than this is replaced (the launcher's own wall limit on it is this plus the timeout). */
  readonly maxAgeMs: number;
  /** Shared with the runs' pool: every prepared container holds a slot while it waits. */
  readonly budget: PreparedBudget;
  /** Called when preparing a container fails (that version then stops refilling until invoked again). */
  readonly onError: (error: unknown) => void;
}

interface VersionPool {
  readonly fn: FunctionVersion;
  readonly plan: FunctionPlan;
  /** Prepared containers whose import has ended, oldest first; each holds a budget slot. */
  readonly ready: Prepared[];
  /** Prepared containers whose program has started and whose import has not ended yet, oldest first; each holds a budget slot. */
  readonly importing: Prepared[];
  /** How many this version should have: grows by one at each invocation that finds none ready, up to maxPerVersion. */
  target: number;
  /** Containers being made (their program not started yet). */
  filling: number;
  lastUsed: number;
  retired: boolean;
}

/**
 * Per function version, containers in which the runtime has started and the
 * handler has been imported, each blocked reading its event (Prepared): ready
 * only once the shim has said its import has ended; `importing` until then.
 * An invocation takes a ready one for good (warm); its container is destroyed
 * after it, and another is prepared behind it. The number kept follows the
 * invocations: one more (up to maxPerVersion) each time one finds none
 * ready, none after idleMs without an invocation; and all of them, with the
 * runs' pool, stay within the host's budget.
 */
export class WarmPools {
  readonly #host: SandboxHost;
  readonly #options: WarmPoolOptions;
  readonly #pools = new Map<string, VersionPool>();
  /** Containers being prepared: close() waits for them. */
  readonly #making = new Set<Promise<unknown>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(host: SandboxHost, options: WarmPoolOptions) {
    this.#host = host;
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(200, Math.min(options.idleMs, options.maxAgeMs, 10_000) / 2));
    this.#sweeper.unref();
  }

  /** Prepared containers waiting for an event now, their import ended, over every version. */
  get ready(): number {
    let n = 0;
    for (const pool of this.#pools.values()) n += pool.ready.length;
    return n;
  }

  /** Per version with prepared containers waiting now (their import ended): its function's name, number and how many (usable or not: a hint for routing). */
  readyVersions(): { name: string; number: number; ready: number }[] {
    const out = [];
    for (const pool of this.#pools.values()) if (pool.ready.length > 0) out.push({ name: pool.fn.name, number: pool.fn.number, ready: pool.ready.length });
    return out;
  }

  /** Containers being prepared now: being made, or importing. */
  get preparing(): number {
    let n = 0;
    for (const pool of this.#pools.values()) n += pool.filling + pool.importing.length;
    return n;
  }

  /**
   * A prepared container of FN for one invocation: a ready one (warm), else
   * one still importing (cold: it is further along than a container made
   * now, and the invocation pays the rest of its import), else undefined
   * (cold: the caller makes one). Either way the pool learns of the demand.
   */
  take(fn: FunctionVersion, plan: FunctionPlan): { prepared: Prepared; cold: boolean } | undefined {
    if (this.#closed || this.#options.maxPerVersion === 0) return undefined;
    const key = keyOf(fn.name, fn.number);
    let pool = this.#pools.get(key);
    // a function deleted and deployed again numbers its versions from 1 again: the same number, another deploy
    if (pool === undefined || pool.fn.digest !== fn.digest || pool.fn.createdAt !== fn.createdAt) {
      if (pool !== undefined) this.#drop(key, pool);
      pool = { fn, plan, ready: [], importing: [], target: 0, filling: 0, lastUsed: 0, retired: false };
      this.#pools.set(key, pool);
    }
    pool.lastUsed = Date.now();
    const warm = this.#shift(pool.ready);
    if (warm !== undefined) return { prepared: warm, cold: false };
    pool.target = Math.min(this.#options.maxPerVersion, pool.target + 1);
    const importing = this.#shift(pool.importing);
    return importing === undefined ? undefined : { prepared: importing, cold: true };
  }

  /** The first usable container of LIST, taken out with its budget slot; unusable ones met on the way are destroyed. */
  #shift(list: Prepared[]): Prepared | undefined {
    while (list.length > 0) {
      const prepared = list.shift()!;
      this.#options.budget.give();
      if (prepared.usable) return prepared;
      void prepared.destroy(); // its program ended while it waited (a limit, its container gone)
    }
    return undefined;
  }

  /** Prepares what FN's pool lacks: called once an invocation is answered, so preparing does not compete with it for the CPU. */
  refill(fn: FunctionVersion): void {
    const pool = this.#pools.get(keyOf(fn.name, fn.number));
    if (pool !== undefined) this.#fill(pool);
  }

  /** Drops the prepared containers of function NAME (of version NUMBER only, when given). */
  async retire(name: string, number?: number): Promise<void> {
    const dropped: Promise<void>[] = [];
    for (const [key, pool] of this.#pools) {
      if (pool.fn.name !== name || (number !== undefined && pool.fn.number !== number)) continue;
      dropped.push(this.#drop(key, pool));
    }
    await Promise.all(dropped);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const dropped = [...this.#pools].map(([key, pool]) => this.#drop(key, pool));
    await Promise.all([...dropped, ...this.#making]);
  }

  #drop(key: string, pool: VersionPool): Promise<void> {
    pool.retired = true;
    pool.target = 0;
    this.#pools.delete(key);
    const ready = [...pool.ready.splice(0), ...pool.importing.splice(0)];
    for (let i = 0; i < ready.length; i++) this.#options.budget.give();
    return Promise.all(ready.map((prepared) => prepared.destroy())).then(() => {});
  }

  #fill(pool: VersionPool): void {
    while (!this.#closed && !pool.retired && pool.ready.length + pool.importing.length + pool.filling < pool.target) {
      if (!this.#options.budget.take()) return; // the host keeps enough made ahead already
      pool.filling++;
      const making = Prepared.make(this.#host, pool.plan, this.#options.maxAgeMs + pool.fn.limits.wallTimeMs).then(
        (prepared) => {
          pool.filling--;
          if (this.#closed || pool.retired || pool.ready.length + pool.importing.length >= pool.target) {
            this.#options.budget.give();
            return prepared.destroy();
          }
          pool.importing.push(prepared);
          return prepared.whenReady.then((ready) => this.#imported(pool, prepared, ready));
        },
        (error: unknown) => {
          pool.filling--;
          this.#options.budget.give();
          pool.target = 0; // do not spin on a failing version; its next invocation asks again
          this.#options.onError(error);
        },
      );
      this.#making.add(making);
      void making.finally(() => this.#making.delete(making));
    }
  }

  /** PREPARED's import has ended (READY) or its program has without it; unless an invocation took it meanwhile, it moves on. */
  async #imported(pool: VersionPool, prepared: Prepared, ready: boolean): Promise<void> {
    const at = pool.importing.indexOf(prepared);
    if (at < 0) return; // taken by a cold invocation, or dropped with its pool
    pool.importing.splice(at, 1);
    if (ready && prepared.usable) {
      pool.ready.push(prepared);
      return;
    }
    this.#options.budget.give();
    pool.target = 0; // an import that fails: do not spin on it; the version's next invocation asks again
    const reason = await prepared.unreadyReason();
    await prepared.destroy();
    this.#options.onError(new WarrenError("function_prepare_failed", `Preparing a container of function ${pool.fn.name} version ${pool.fn.version} failed: ${reason}`));
  }

  #sweep(): void {
    const now = Date.now();
    const tooOld = performance.now() - this.#options.maxAgeMs;
    for (const [key, pool] of this.#pools) {
      if (now - pool.lastUsed >= this.#options.idleMs) {
        void this.#drop(key, pool);
        continue;
      }
      // Replaced before the launcher's wall limit on them can end them; so are those whose program ended.
      // (One whose import ends its program is #imported's: it stops the refills.)
      const isStale = (prepared: Prepared) => prepared.madeAt < tooOld || !prepared.usable;
      const stale = [...pool.ready.filter(isStale), ...pool.importing.filter((prepared) => prepared.madeAt < tooOld)];
      if (stale.length === 0) continue;
      for (const list of [pool.ready, pool.importing]) list.splice(0, list.length, ...list.filter((prepared) => !stale.includes(prepared)));
      for (const prepared of stale) {
        this.#options.budget.give();
        void prepared.destroy();
      }
      this.#fill(pool);
    }
  }
}

function keyOf(name: string, number: number): string {
  return `${name}\u0000${number}`;
}
