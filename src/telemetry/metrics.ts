import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunResult } from "../run/result.js";

/** Warren's Prometheus metrics, in their own registry. */
export class Metrics {
  readonly registry = new Registry();
  readonly #runs: Counter<"status" | "verdict">;
  readonly #duration: Histogram<"language">;
  readonly #sandboxStart: Histogram;
  readonly #active: Gauge;
  readonly #eventStreams: Gauge;
  readonly #eventBytes: Counter;

  /** `depth` is read at each scrape (queue depth). */
  constructor(depth?: () => Promise<number>) {
    const registers = [this.registry];
    this.#runs = new Counter({ name: "warren_runs_total", help: "Runs finished by this process, by status and verdict", labelNames: ["status", "verdict"], registers });
    this.#duration = new Histogram({
      name: "warren_run_duration_seconds",
      help: "Time a worker spent on a run, sandbox start to result",
      labelNames: ["language"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#sandboxStart = new Histogram({ name: "warren_sandbox_start_seconds", help: "Readiness probe: time to start a sandbox and run /bin/true in it", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers });
    this.#active = new Gauge({ name: "warren_active_sandboxes", help: "Sandboxes (jobs) running in this process", registers });
    this.#eventStreams = new Gauge({ name: "warren_event_streams", help: "Open event streams (GET /v1/runs/:id/events) of this process", registers });
    this.#eventBytes = new Counter({ name: "warren_event_stream_bytes_total", help: "Bytes handed to event stream connections to send", registers });
    if (depth !== undefined) {
      new Gauge({
        name: "warren_queue_depth",
        help: "Runs waiting in the queue",
        registers,
        async collect() {
          this.set(await depth().catch(() => Number.NaN));
        },
      });
    }
  }

  /** Call when a job starts; the returned function records its end. */
  started(language: string): (result: RunResult) => void {
    this.#active.inc();
    const stop = this.#duration.startTimer({ language });
    return (result) => {
      stop();
      this.#active.dec();
      this.#runs.inc({ status: result.status, verdict: result.verdict ?? "none" });
    };
  }

  /** Call when an event stream opens; the returned functions count what it hands over to send, and its end. */
  eventStreamOpened(): { sent: (bytes: number) => void; closed: () => void } {
    this.#eventStreams.inc();
    let open = true;
    return {
      sent: (bytes) => this.#eventBytes.inc(bytes),
      closed: () => {
        if (open) this.#eventStreams.dec();
        open = false;
      },
    };
  }

  /** Open event streams now (tests: a client that went away leaves none). */
  async openEventStreams(): Promise<number> {
    return (await this.#eventStreams.get()).values[0]?.value ?? 0;
  }

  /** Bytes handed to event streams so far. */
  async eventStreamBytes(): Promise<number> {
    return (await this.#eventBytes.get()).values[0]?.value ?? 0;
  }

  sandboxStarted(seconds: number): void {
    this.#sandboxStart.observe(seconds);
  }
}
