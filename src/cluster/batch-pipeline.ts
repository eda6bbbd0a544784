// A frontend's batches to one partition (enqueues, settlements): one turn's worth per batch, up to
// a size, several batches in flight, and resent in order after any failure. That order is what
// keeps enqueue deduplication exact: a partition keeps only the highest (session, seq) it applied,
// so a batch resent after a later one committed would be taken for a duplicate and lost. When a
// batch fails, nothing new is sent until every batch in flight was answered; the failed ones are
// then resent one at a time, lowest seqs first, until each is answered, and only then does
// pipelining resume. (The owner refuses a batch while batches of its stream proposed in another
// term are pending, so a later batch never commits without the earlier ones: owner-service.ts.)
// Settlements are idempotent and would not need the order; they take the same path.

/** One send: `answer` gets the outcome, or an Error (retryable or final, as `retry` decides). */
export type SendBatch<Item, Result> = (items: readonly Item[], answer: (r: readonly Result[] | Error) => void) => void;

export interface BatchPipelineOptions<Item, Result> {
  readonly maxInFlight: number;
  readonly maxBatchItems: number;
  readonly send: SendBatch<Item, Result>;
  /** How long to wait before resending after `err`; undefined: the error is final for the batch. */
  readonly retry: (err: Error, firstSentAtMs: number) => number | undefined;
  /** A final failure: every item of the batch gets `failed`. */
  readonly failed: Result;
  /**
   * Where a send would go now (the partition's leader as last learnt). Batches in flight all went
   * to one place: a batch for another waits until they are answered, or it could commit in a new
   * leader's term while an earlier one, proposed by the old leader, is being dropped.
   */
  readonly route: () => unknown;
  readonly now?: () => number;
}

interface Batch<Item, Result> {
  readonly items: Array<{ item: Item; done: (r: Result) => void }>;
  readonly route: unknown;
  readonly firstSentAtMs: number;
  /** Set when answered; undefined while in flight. */
  outcome?: 'ok' | 'failed';
  lastError?: Error;
}

export class BatchPipeline<Item, Result> {
  private queue: Array<{ item: Item; done: (r: Result) => void }> = [];
  private readonly inFlight: Batch<Item, Result>[] = [];
  /** Failed batches waiting to be resent in order (lowest seqs first). */
  private readonly failedBatches: Batch<Item, Result>[] = [];
  private recovering = false;
  private scheduled = false;
  private readonly now: () => number;

  constructor(private readonly opts: BatchPipelineOptions<Item, Result>) {
    this.now = opts.now ?? Date.now;
  }

  push(item: Item, done: (r: Result) => void): void {
    this.queue.push({ item, done });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  private pump(): void {
    if (this.recovering) return;
    while (this.inFlight.length < this.opts.maxInFlight && this.queue.length > 0) {
      const route = this.opts.route();
      if (this.inFlight.length > 0 && this.inFlight[0]?.route !== route) return; // resumed when they are answered
      const batch: Batch<Item, Result> = { items: this.queue.splice(0, this.opts.maxBatchItems), route, firstSentAtMs: this.now() };
      this.inFlight.push(batch);
      this.sendBatch(batch);
    }
  }

  private sendBatch(batch: Batch<Item, Result>): void {
    this.opts.send(batch.items.map((x) => x.item), (r) => this.answered(batch, r));
  }

  private answered(batch: Batch<Item, Result>, r: readonly Result[] | Error): void {
    if (!(r instanceof Error)) {
      batch.items.forEach((x, i) => x.done(r[i] as Result));
      batch.outcome = 'ok';
    } else if (this.opts.retry(r, batch.firstSentAtMs) === undefined) {
      for (const x of batch.items) x.done(this.opts.failed);
      batch.outcome = 'ok'; // final: nothing to resend
    } else {
      batch.outcome = 'failed';
      batch.lastError = r;
      this.recovering = true;
    }
    if (!this.recovering) {
      this.inFlight.splice(this.inFlight.indexOf(batch), 1);
      this.pump();
      return;
    }
    // Recovering: once every batch in flight was answered, resend the failed ones in order.
    if (this.inFlight.some((b) => b.outcome === undefined)) return;
    for (const b of this.inFlight) if (b.outcome === 'failed') this.failedBatches.push(b);
    this.inFlight.length = 0;
    this.resendNext();
  }

  /** Resends the oldest failed batch alone; the next only once it was answered. */
  private resendNext(): void {
    const batch = this.failedBatches[0];
    if (batch === undefined) {
      this.recovering = false;
      this.pump();
      return;
    }
    const delay = this.opts.retry(batch.lastError as Error, batch.firstSentAtMs) ?? 0;
    setTimeout(() => {
      this.opts.send(batch.items.map((x) => x.item), (r) => {
        if (r instanceof Error && this.opts.retry(r, batch.firstSentAtMs) !== undefined) {
          batch.lastError = r;
          this.resendNext(); // the same batch again
          return;
        }
        this.failedBatches.shift();
        if (r instanceof Error) for (const x of batch.items) x.done(this.opts.failed);
        else batch.items.forEach((x, i) => x.done(r[i] as Result));
        this.resendNext();
      });
    }, delay);
  }
}
