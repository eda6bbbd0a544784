// The main thread's side of the bench workers. Producers run in one worker_thread and consumers in
// another, each owning its connections, so one side's CPU (framing, timers, GC) cannot starve the
// other's event loop. The main thread only orchestrates and aggregates.
//
// Protocol: the main thread sends requests {id, op}; the worker carries out `op` and answers
// {id, ok, report} with its cumulative counters, the latencies recorded since its previous report
// and its new errors. Every answer is folded into the main thread's BenchStats, so after polling
// every worker the main BenchStats reads exactly as if everything ran in one thread.
import { Worker } from 'node:worker_threads';
import type { BenchOptions } from './options.js';
import type { BenchStats, Counters } from './stats.js';
import type { HistogramSnapshot } from './histogram.js';

export type WorkerRole = 'producers' | 'consumers';
export type WorkerOp = 'open' | 'start' | 'report' | 'stop' | 'drain' | 'close';

export interface WorkerInit {
  readonly role: WorkerRole;
  readonly opts: BenchOptions;
  readonly queue: string;
}
export interface WorkerRequest { readonly id: number; readonly op: WorkerOp; readonly timeoutMs: number }
export interface WorkerReport {
  readonly counters: Counters;
  /** Latencies recorded since the previous report, in µs. */
  readonly latencyUs: HistogramSnapshot;
  /** Errors recorded since the previous report. */
  readonly errors: readonly string[];
}
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly report: WorkerReport }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Slack on top of an operation's own timeout before the main thread gives up on a worker. */
const REPLY_SLACK_MS = 10_000;

/**
 * The compiled worker.js next to this file; or, when this file runs from source under tsx, worker.ts
 * loaded by a bootstrap that first registers tsx's loader in the new thread (tsx's `--import` hooks,
 * though inherited through execArgv, do not apply to worker threads on Node 20).
 */
function newWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

export class BenchWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private last: Counters = { published: 0, confirmed: 0, nacked: 0, consumed: 0 };
  private dead: Error | undefined;
  private readonly worker: Worker;

  private readonly role: WorkerRole;

  private constructor(init: WorkerInit, private readonly stats: BenchStats) {
    this.role = init.role;
    this.worker = newWorker(init);
    this.worker.on('message', (m: WorkerReply) => this.onReply(m));
    this.worker.on('error', (err) => this.die(new Error(`${init.role} worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.die(new Error(`${init.role} worker exited (code ${code})`)));
  }

  /** Starts a worker and has it open its connections; rejects (with the worker stopped) if that fails. */
  static async open(init: WorkerInit, stats: BenchStats, timeoutMs: number): Promise<BenchWorker> {
    const w = new BenchWorker(init, stats);
    try {
      await w.request('open', timeoutMs);
    } catch (err) {
      await w.worker.terminate();
      throw err;
    }
    return w;
  }

  /** Sends `op` and resolves once the worker has done it and its report is folded into the stats. */
  request(op: WorkerOp, timeoutMs = 0): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bench worker did not answer '${op}' in time`));
      }, timeoutMs + REPLY_SLACK_MS);
      this.pending.set(id, { resolve, reject, timer });
      const req: WorkerRequest = { id, op, timeoutMs };
      this.worker.postMessage(req);
    });
  }

  /** Closes the worker's connections (bounded by timeoutMs), then ends the thread. */
  async close(timeoutMs: number): Promise<void> {
    try { await this.request('close', timeoutMs); } catch (err) { this.stats.recordError('bench worker close', err); }
    await this.worker.terminate();
  }

  private onReply(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (!m.ok) {
      p.reject(new Error(m.error));
      return;
    }
    this.absorb(m.report);
    p.resolve();
  }

  private absorb(r: WorkerReport): void {
    const s = this.stats;
    const c = r.counters;
    s.published += c.published - this.last.published;
    s.confirmed += c.confirmed - this.last.confirmed;
    s.nacked += c.nacked - this.last.nacked;
    s.consumed += c.consumed - this.last.consumed;
    this.last = c;
    s.latencyTotalUs.merge(r.latencyUs);
    s.latencyIntervalUs.merge(r.latencyUs);
    for (const e of r.errors) s.recordError(this.role, e);
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
