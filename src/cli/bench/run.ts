// One bench run, start to finish (main thread):
//   1. a setup connection declares the queue (or finds the one named by --queue);
//   2. the consumer worker opens its connections and subscribes first, so no early message waits
//      in the queue; then the producer worker opens its connections (see workers.ts);
//   3. producers start and the timed window runs for --duration (or until `signal` aborts), with
//      a progress record every second from the workers' reports;
//   4. producers stop; the drain phase waits (at most --drain seconds) for outstanding confirms
//      and for consumers to receive everything published;
//   5. every connection is closed, the workers end, and a queue the bench declared is deleted.
// Rates in the summary cover the timed window only; totals include the drain phase.
import { randomUUID } from 'node:crypto';
import type { BenchOptions } from './options.js';
import { BenchStats, progressRecord, summaryRecord, type ProgressRecord, type SummaryRecord } from './stats.js';
import type { QueueDeclaration, SetupPort } from './driver.js';
import { loadDriver } from './drivers.js';
import { BenchWorker, type WorkerOp, type WorkerRole } from './workers.js';
import { sleep, withTimeout } from './async.js';

const PROGRESS_INTERVAL_MS = 1000;
const DRAIN_POLL_MS = 50;
/** A last, partial progress interval shorter than this is folded into the summary only. */
const MIN_FINAL_PROGRESS_MS = 250;
/** Per-connection bound on closing, so a wedged broker cannot keep the bench from exiting. */
const CLOSE_TIMEOUT_MS = 3000;
/** Bound on a worker opening all of its connections. */
const OPEN_TIMEOUT_MS = 30_000;

export interface BenchHooks {
  onProgress?: (p: ProgressRecord) => void;
  /** Aborting ends the timed window early; the run still drains and cleans up. */
  signal?: AbortSignal;
}

interface Workers { readonly producers: BenchWorker | undefined; readonly consumers: BenchWorker | undefined }

export async function runBench(opts: BenchOptions, hooks: BenchHooks = {}): Promise<SummaryRecord> {
  const stats = new BenchStats();
  const driver = await loadDriver(opts.client);
  const setup = await driver.openSetup(opts.url, { onError: (context, err) => stats.recordError(context, err) });
  const spawned: BenchWorker[] = [];
  const spawn = async (role: WorkerRole, count: number, queue: string): Promise<BenchWorker | undefined> => {
    if (count === 0) return undefined;
    const w = await BenchWorker.open({ role, opts, queue }, stats, OPEN_TIMEOUT_MS);
    spawned.push(w);
    return w;
  };
  let queue = '';
  let declared = false;
  try {
    ({ queue, declared } = await prepareQueue(setup, opts));
    const consumers = await spawn('consumers', opts.consumers, queue);
    const producers = await spawn('producers', opts.producers, queue);
    const workers: Workers = { producers, consumers };
    const { windowMs, atWindowEnd } = await timedWindow(opts, stats, workers, hooks);
    await drain(opts, stats, workers);
    return summaryRecord({
      settings: {
        url: redactUrl(opts.url), queue, producers: opts.producers, consumers: opts.consumers,
        sizeBytes: opts.sizeBytes, confirm: opts.confirm, prefetch: opts.prefetch, autoAck: opts.autoAck,
        persistent: opts.persistent, multiAckEvery: opts.multiAckEvery, ratePerSec: opts.ratePerSec, client: opts.client,
      },
      atWindowEnd, windowMs, final: stats.counters(), latencyUs: stats.latencyTotalUs, errors: stats.errors,
    });
  } finally {
    // Producers first, so consumers are still there to take what the producers flush on closing.
    for (const w of spawned.reverse()) await w.close(CLOSE_TIMEOUT_MS);
    if (declared) await withTimeout(setup.deleteQueue(queue).catch(() => {}), CLOSE_TIMEOUT_MS);
    await withTimeout(setup.close(), CLOSE_TIMEOUT_MS);
  }
}

/** Sends `op` to every worker at once; each answer refreshes the shared counters. */
async function all(w: Workers, op: WorkerOp, timeoutMs = 0): Promise<void> {
  await Promise.all([w.producers?.request(op, timeoutMs), w.consumers?.request(op, timeoutMs)]);
}

async function timedWindow(opts: BenchOptions, stats: BenchStats, workers: Workers, hooks: BenchHooks) {
  await all(workers, 'report'); // discard anything recorded while opening
  stats.latencyIntervalUs.reset();
  let prev = stats.counters();
  await workers.producers?.request('start');
  const startMs = performance.now();
  const endMs = startMs + opts.durationSec * 1000;
  let prevMs = startMs;
  for (let tick = 1; ; tick++) {
    const tickMs = Math.min(startMs + tick * PROGRESS_INTERVAL_MS, endMs);
    await sleep(tickMs - performance.now(), hooks.signal);
    if (tickMs >= endMs || hooks.signal?.aborted) break;
    await all(workers, 'report');
    const nowMs = performance.now();
    const cur = stats.counters();
    hooks.onProgress?.(progressRecord(prev, cur, nowMs - prevMs, nowMs - startMs, stats.latencyIntervalUs));
    stats.latencyIntervalUs.reset();
    prev = cur;
    prevMs = nowMs;
  }
  await workers.producers?.request('stop');
  await workers.consumers?.request('report');
  const stoppedMs = performance.now();
  if (stoppedMs - prevMs >= MIN_FINAL_PROGRESS_MS) {
    hooks.onProgress?.(progressRecord(prev, stats.counters(), stoppedMs - prevMs, stoppedMs - startMs, stats.latencyIntervalUs));
  }
  return { windowMs: stoppedMs - startMs, atWindowEnd: stats.counters() };
}

/** Waits for confirms, then for consumers to catch up, within one --drain budget. */
async function drain(opts: BenchOptions, stats: BenchStats, workers: Workers): Promise<void> {
  const deadlineMs = performance.now() + opts.drainSec * 1000;
  await workers.producers?.request('drain', opts.drainSec * 1000);
  if (!workers.consumers) return;
  await workers.consumers.request('report');
  while (stats.consumed < stats.published && performance.now() < deadlineMs) {
    await sleep(DRAIN_POLL_MS);
    await workers.consumers.request('report');
  }
}

/** Declares a fresh queue, or uses the one named by --queue (declaring it if it is missing). */
async function prepareQueue(setup: SetupPort, opts: BenchOptions): Promise<{ queue: string; declared: boolean }> {
  // --persistent also makes a declared queue durable: persistent messages in a transient queue
  // are never written to disk, so the flag would otherwise measure nothing. A quorum queue is
  // always durable and never auto-delete (RabbitMQ refuses anything else).
  const quorum = opts.queueType === 'quorum';
  const declareOptions: QueueDeclaration = {
    durable: opts.persistent || quorum, autoDelete: !quorum,
    arguments: opts.queueType === undefined ? {} : { 'x-queue-type': opts.queueType },
  };
  const queue = opts.queue ?? `warren-bench-${randomUUID().slice(0, 8)}`;
  if (opts.queue !== undefined && await setup.queueExists(queue)) return { queue, declared: false };
  await setup.declareQueue(queue, declareOptions);
  return { queue, declared: true };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
