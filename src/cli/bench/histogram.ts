// A log-bucket latency histogram with bounded memory (HDR-like): every recorded value lands in a
// bucket whose width is a fixed fraction of its magnitude, so any reported quantile is within
// PRECISION_RATIO of a value that was actually recorded, however many samples are taken.
//
// Contract: values are non-negative numbers in one unit (the bench records microseconds). Values
// below 1 count as 1; values above MAX_VALUE count as MAX_VALUE (and are still reflected exactly
// in max()). Pure: no clock, no I/O.

/** Relative width of a bucket: quantiles are reported within +1% of a recorded value. */
export const PRECISION_RATIO = 0.01;
/** Largest value kept in its own bucket: 1e10 µs ≈ 2.8 hours. */
export const MAX_VALUE = 1e10;

const LOG_BASE = Math.log1p(PRECISION_RATIO);
const BUCKET_COUNT = Math.ceil(Math.log(MAX_VALUE) / LOG_BASE) + 1;

/** Bucket index of a value: bucket i holds values in [(1+r)^i, (1+r)^(i+1)). */
export function bucketIndexOf(value: number): number {
  if (!(value > 1)) return 0; // also maps NaN to bucket 0
  if (value >= MAX_VALUE) return BUCKET_COUNT - 1;
  return Math.floor(Math.log(value) / LOG_BASE);
}

/** Upper bound of bucket i: the value reported for a quantile that falls in it. */
export function bucketUpperBound(index: number): number {
  return Math.exp((index + 1) * LOG_BASE);
}

/** A histogram's content in transferable form (non-empty buckets only), for merging across threads. */
export interface HistogramSnapshot {
  readonly buckets: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

export class LogHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  record(value: number): void {
    this.recordAt(bucketIndexOf(value), value);
  }

  /** Records a value whose bucket index the caller already computed (one log() for two histograms). */
  recordAt(index: number, value: number): void {
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.sum += value;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
  }

  count(): number { return this.total; }
  min(): number { return this.total === 0 ? 0 : this.minValue; }
  max(): number { return this.maxValue; }
  mean(): number { return this.total === 0 ? 0 : this.sum / this.total; }

  /**
   * The smallest bucket bound below which at least q of the samples lie (q in [0, 1]), capped
   * by the exact max so p100 is never above a recorded value. 0 when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(Math.max(q, 0), 1) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.max(this.min(), Math.min(bucketUpperBound(i), this.maxValue));
    }
    return this.maxValue;
  }

  snapshot(): HistogramSnapshot {
    const buckets: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) { buckets.push(i); counts.push(c); }
    }
    return { buckets, counts, sum: this.sum, min: this.minValue, max: this.maxValue };
  }

  /** Adds another histogram's samples (as if each had been recorded here). */
  merge(s: HistogramSnapshot): void {
    for (let k = 0; k < s.buckets.length; k++) {
      const i = s.buckets[k] ?? 0;
      const c = s.counts[k] ?? 0;
      this.counts[i] = (this.counts[i] ?? 0) + c;
      this.total += c;
    }
    this.sum += s.sum;
    if (s.min < this.minValue) this.minValue = s.min;
    if (s.max > this.maxValue) this.maxValue = s.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.minValue = Number.POSITIVE_INFINITY;
    this.maxValue = 0;
  }
}
