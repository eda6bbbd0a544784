// One bench run, start to finish:
//   1. a setup connection declares the queue (or finds the one named by --queue);
//   2. consumers subscribe first, so no early message waits in the queue;
//   3. producers start and the timed window runs for --duration (or until `signal` aborts),
//      with a progress record every second;
//   4. producers stop; the drain phase waits (at most --drain seconds) for outstanding confirms
//      and for consumers to receive everything published;
//   5. every connection is closed and a queue the bench declared is deleted.
// Rates in the summary cover the timed window only; totals include the drain phase.
import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import type { BenchOptions } from './options.js';
import { BenchStats, progressRecord, summaryRecord, type ProgressRecord, type SummaryRecord } from './stats.js';
import { Producer } from './producer.js';
import { Consumer } from './consumer.js';

const PROGRESS_INTERVAL_MS = 1000;
const DRAIN_POLL_MS = 20;
/** A last, partial progress interval shorter than this is folded into the summary only. */
const MIN_FINAL_PROGRESS_MS = 250;
/** Per-connection bound on closing, so a wedged broker cannot keep the bench from exiting. */
const CLOSE_TIMEOUT_MS = 3000;

export interface BenchHooks {
  onProgress?: (p: ProgressRecord) => void;
  /** Aborting ends the timed window early; the run still drains and cleans up. */
  signal?: AbortSignal;
}

export async function runBench(opts: BenchOptions, hooks: BenchHooks = {}): Promise<SummaryRecord> {
  const stats = new BenchStats();
  const setup = await connect(opts.url);
  setup.on('error', (err: Error) => stats.recordError('setup connection', err));
  let producers: Producer[] = [];
  let consumers: Consumer[] = [];
  let queue = '';
  let declared = false;
  try {
    ({ queue, declared } = await prepareQueue(setup, opts));
    consumers = await openAll(range(opts.consumers).map((i) => Consumer.open(opts, queue, stats, i)));
    producers = await openAll(range(opts.producers).map((i) => Producer.open(opts, queue, stats, i)));
    const { windowMs, atWindowEnd } = await timedWindow(opts, stats, producers, hooks);
    await drain(opts, stats, producers);
    return summaryRecord({
      settings: {
        url: redactUrl(opts.url), queue, producers: opts.producers, consumers: opts.consumers,
        sizeBytes: opts.sizeBytes, confirm: opts.confirm, prefetch: opts.prefetch, autoAck: opts.autoAck,
        persistent: opts.persistent, multiAckEvery: opts.multiAckEvery, ratePerSec: opts.ratePerSec,
      },
      atWindowEnd, windowMs, final: stats.counters(), latencyUs: stats.latencyTotalUs, errors: stats.errors,
    });
  } finally {
    for (const p of producers) p.stop();
    await Promise.all([...producers, ...consumers].map((x) => withTimeout(x.close(), CLOSE_TIMEOUT_MS)));
    if (declared) await withTimeout(deleteQueue(setup, queue), CLOSE_TIMEOUT_MS);
    await withTimeout(setup.close().catch(() => {}), CLOSE_TIMEOUT_MS);
  }
}

async function timedWindow(opts: BenchOptions, stats: BenchStats, producers: Producer[], hooks: BenchHooks) {
  const startMs = performance.now();
  let prev = stats.counters();
  let prevMs = startMs;
  stats.latencyIntervalUs.reset();
  const ticker = setInterval(() => {
    const nowMs = performance.now();
    const cur = stats.counters();
    hooks.onProgress?.(progressRecord(prev, cur, nowMs - prevMs, nowMs - startMs, stats.latencyIntervalUs));
    stats.latencyIntervalUs.reset();
    prev = cur;
    prevMs = nowMs;
  }, PROGRESS_INTERVAL_MS);
  for (const p of producers) p.start();
  await sleep(opts.durationSec * 1000, hooks.signal);
  for (const p of producers) p.stop();
  clearInterval(ticker);
  const endMs = performance.now();
  if (endMs - prevMs >= MIN_FINAL_PROGRESS_MS) {
    hooks.onProgress?.(progressRecord(prev, stats.counters(), endMs - prevMs, endMs - startMs, stats.latencyIntervalUs));
  }
  return { windowMs: endMs - startMs, atWindowEnd: stats.counters() };
}

/** Waits for confirms, then for consumers to catch up, within one --drain budget. */
async function drain(opts: BenchOptions, stats: BenchStats, producers: Producer[]): Promise<void> {
  const deadlineMs = performance.now() + opts.drainSec * 1000;
  await Promise.all(producers.map((p) => p.waitForConfirms(opts.drainSec * 1000)));
  if (opts.consumers === 0) return;
  while (stats.consumed < stats.published && performance.now() < deadlineMs) await sleep(DRAIN_POLL_MS);
}

/** Declares a fresh queue, or uses the one named by --queue (declaring it if it is missing). */
async function prepareQueue(setup: ChannelModel, opts: BenchOptions): Promise<{ queue: string; declared: boolean }> {
  // --persistent also makes a declared queue durable: persistent messages in a transient queue
  // are never written to disk, so the flag would otherwise measure nothing.
  const declareOptions = { durable: opts.persistent, autoDelete: true };
  if (opts.queue === undefined) {
    const queue = `warren-bench-${randomUUID().slice(0, 8)}`;
    const ch = await setup.createChannel();
    await ch.assertQueue(queue, declareOptions);
    await ch.close();
    return { queue, declared: true };
  }
  // queue.declare passive on a throwaway channel: a missing queue closes that channel (404).
  const probe = await setup.createChannel();
  probe.on('error', () => {});
  const exists = await probe.checkQueue(opts.queue).then(() => true, () => false);
  if (exists) {
    await probe.close().catch(() => {});
    return { queue: opts.queue, declared: false };
  }
  const ch = await setup.createChannel();
  await ch.assertQueue(opts.queue, declareOptions);
  await ch.close();
  return { queue: opts.queue, declared: true };
}

async function deleteQueue(setup: ChannelModel, queue: string): Promise<void> {
  try {
    const ch = await setup.createChannel();
    ch.on('error', () => {});
    await ch.deleteQueue(queue);
    await ch.close();
  } catch { /* auto-delete may have removed it already; brokers differ on deleting a missing queue */ }
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

/** Like Promise.all, but if one open fails the others are closed rather than leaked. */
async function openAll<T extends { close(): Promise<void> }>(opening: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(opening);
  const opened = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((x) => withTimeout(x.close(), CLOSE_TIMEOUT_MS)));
    throw failed.reason;
  }
  return opened;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const onAbort = (): void => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((resolve) => { t = setTimeout(resolve, ms); })]);
  clearTimeout(t);
}
