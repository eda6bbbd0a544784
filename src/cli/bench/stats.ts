// Counters of one thread's producers or consumers (plain fields: one event loop each; the main thread
// sums the workers' reports into its own BenchStats), and the pure functions that turn them into
// progress and summary records. Latencies are recorded in microseconds and reported in milliseconds.
import { LogHistogram, bucketIndexOf } from './histogram.js';

export class BenchStats {
  published = 0;
  confirmed = 0;
  nacked = 0;
  consumed = 0;
  readonly latencyTotalUs = new LogHistogram();
  /** Reset by every progress line, so each line shows that second's latencies. */
  readonly latencyIntervalUs = new LogHistogram();
  readonly errors: string[] = [];

  recordLatencyUs(latencyUs: number): void {
    const index = bucketIndexOf(latencyUs);
    this.latencyTotalUs.recordAt(index, latencyUs);
    this.latencyIntervalUs.recordAt(index, latencyUs);
  }

  /** Keeps the first few errors; a failing broker can produce thousands of identical ones. */
  recordError(context: string, err: unknown): void {
    if (this.errors.length < MAX_ERRORS_KEPT) {
      this.errors.push(`${context}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  counters(): Counters {
    return { published: this.published, confirmed: this.confirmed, nacked: this.nacked, consumed: this.consumed };
  }
}

const MAX_ERRORS_KEPT = 20;

export interface Counters {
  readonly published: number;
  readonly confirmed: number;
  readonly nacked: number;
  readonly consumed: number;
}

export interface LatencySummaryMs {
  readonly samples: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface ProgressRecord {
  readonly kind: 'progress';
  readonly elapsedSec: number;
  readonly publishedPerSec: number;
  readonly confirmedPerSec: number;
  readonly consumedPerSec: number;
  readonly latencyMs: LatencySummaryMs;
}

export interface SummaryRecord {
  readonly kind: 'summary';
  readonly url: string;
  readonly queue: string;
  readonly producers: number;
  readonly consumers: number;
  readonly sizeBytes: number;
  readonly confirm: number;
  readonly prefetch: number;
  readonly autoAck: boolean;
  readonly persistent: boolean;
  readonly multiAckEvery: number;
  readonly ratePerSec: number;
  readonly client: string;
  /** Measured length of the timed window (producers running). */
  readonly durationSec: number;
  /** Totals, including what arrived during the drain phase. */
  readonly published: number;
  readonly confirmed: number;
  readonly nacked: number;
  readonly consumed: number;
  /** Rates over the timed window only (the drain phase is excluded). */
  readonly publishedPerSec: number;
  readonly confirmedPerSec: number;
  readonly consumedPerSec: number;
  /** End-to-end latency (producer send → consumer receive) over the whole run. */
  readonly latencyMs: LatencySummaryMs;
  /** True when every publish was confirmed (if confirming) and consumed (if consuming). */
  readonly drained: boolean;
  readonly errors: readonly string[];
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function latencySummaryMs(h: LogHistogram): LatencySummaryMs {
  const ms = (us: number): number => round3(us / 1000);
  return {
    samples: h.count(), min: ms(h.min()), p50: ms(h.quantile(0.5)), p95: ms(h.quantile(0.95)),
    p99: ms(h.quantile(0.99)), max: ms(h.max()), mean: ms(h.mean()),
  };
}

function perSec(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0;
}

/** Rates between two counter snapshots taken intervalMs apart. */
export function progressRecord(prev: Counters, cur: Counters, intervalMs: number, sinceStartMs: number,
  intervalLatencyUs: LogHistogram): ProgressRecord {
  return {
    kind: 'progress',
    elapsedSec: round3(sinceStartMs / 1000),
    publishedPerSec: perSec(cur.published - prev.published, intervalMs),
    confirmedPerSec: perSec(cur.confirmed - prev.confirmed, intervalMs),
    consumedPerSec: perSec(cur.consumed - prev.consumed, intervalMs),
    latencyMs: latencySummaryMs(intervalLatencyUs),
  };
}

export interface SummaryInput {
  readonly settings: Omit<SummaryRecord, 'kind' | 'durationSec' | 'published' | 'confirmed' | 'nacked' | 'consumed'
    | 'publishedPerSec' | 'confirmedPerSec' | 'consumedPerSec' | 'latencyMs' | 'drained' | 'errors'>;
  /** Counters when the timed window ended (producers stopped). */
  readonly atWindowEnd: Counters;
  readonly windowMs: number;
  /** Counters after the drain phase. */
  readonly final: Counters;
  readonly latencyUs: LogHistogram;
  readonly errors: readonly string[];
}

export function summaryRecord(input: SummaryInput): SummaryRecord {
  const { settings, atWindowEnd: w, windowMs, final: f } = input;
  const confirmsDone = settings.confirm === 0 || f.confirmed + f.nacked === f.published;
  const consumesDone = settings.consumers === 0 || f.consumed >= f.published;
  return {
    kind: 'summary',
    ...settings,
    durationSec: round3(windowMs / 1000),
    published: f.published,
    confirmed: f.confirmed,
    nacked: f.nacked,
    consumed: f.consumed,
    publishedPerSec: perSec(w.published, windowMs),
    confirmedPerSec: perSec(w.confirmed, windowMs),
    consumedPerSec: perSec(w.consumed, windowMs),
    latencyMs: latencySummaryMs(input.latencyUs),
    drained: confirmsDone && consumesDone,
    errors: input.errors,
  };
}

const fmtMs = (x: number): string => x.toFixed(x < 10 ? 2 : 1);

export function formatProgress(p: ProgressRecord, confirming: boolean): string {
  const lat = p.latencyMs.samples === 0 ? '-' :
    `${fmtMs(p.latencyMs.p50)}/${fmtMs(p.latencyMs.p95)}/${fmtMs(p.latencyMs.p99)} ms`;
  const confirmed = confirming ? `, confirmed: ${p.confirmedPerSec} msg/s` : '';
  return `time: ${p.elapsedSec.toFixed(1)}s, sent: ${p.publishedPerSec} msg/s${confirmed}, ` +
    `received: ${p.consumedPerSec} msg/s, latency p50/p95/p99: ${lat}`;
}

export function formatSummary(s: SummaryRecord): string {
  const l = s.latencyMs;
  const lines = [
    `summary: ${s.producers} producer(s), ${s.consumers} consumer(s), ${s.sizeBytes} B, queue ${s.queue}, ` +
      `${s.durationSec}s measured`,
    `  published: ${s.publishedPerSec} msg/s (${s.published} total)`,
    ...(s.confirm > 0 ? [`  confirmed: ${s.confirmedPerSec} msg/s (${s.confirmed} total, ${s.nacked} nacked)`] : []),
    `  consumed:  ${s.consumedPerSec} msg/s (${s.consumed} total)`,
    l.samples === 0 ? '  latency:   no samples' :
      `  latency:   p50 ${fmtMs(l.p50)} ms, p95 ${fmtMs(l.p95)} ms, p99 ${fmtMs(l.p99)} ms ` +
      `(min ${fmtMs(l.min)}, max ${fmtMs(l.max)}, mean ${fmtMs(l.mean)}, ${l.samples} samples)`,
    `  drained:   ${s.drained ? 'yes' : 'NO (some messages were not confirmed or not consumed in time)'}`,
    ...s.errors.map((e) => `  error: ${e}`),
  ];
  return lines.join('\n');
}
