// The metadata leader's view of how far each frontend's cache has applied (reported with
// KeepAlive), and the wait that makes a metadata change visible through every frontend before any
// frontend answers for it: the leader answers a Propose only once every open lease has reported the
// entry's index applied. RabbitMQ gets the same from Mnesia, whose transactions commit on every
// node: after queue.bind-ok, a publish through any node is routed by the binding.
//
// The wait for a lease ends when its frontend reports the index, when the lease is no longer open
// (ended or expired: that frontend serves nobody), or after `boundMs` — a frontend that is frozen,
// cut off or dead but not yet expired must not hold every metadata change for a whole TTL. Past
// the bound, a lookup that misses on the lagging cache still waits for the leader's read point
// (src/util/read-point.ts) before it is trusted.

export interface CacheAcksOptions {
  /** The leases open in this replica's applied metadata state. */
  readonly openLeases: () => Iterable<number>;
  /** The longest a change waits for the caches; 0: it does not wait. */
  readonly boundMs: number;
  /** A wait ended at its bound: the leases that had not reported (for the log). */
  readonly onBound?: (index: number, lagging: readonly number[]) => void;
}

interface Waiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

export class CacheAcks {
  /** Lease → the highest index its frontend reported applied. */
  private readonly applied = new Map<number, number>();
  private waiters: Waiter[] = [];

  constructor(private readonly opts: CacheAcksOptions) {}

  /** A frontend's report: its cache has applied `index` (reports only ever raise it). */
  report(lease: number, index: number): void {
    if (index <= (this.applied.get(lease) ?? 0)) return;
    this.applied.set(lease, index);
    this.settle();
  }

  /** Resolves once every open lease's cache has applied `index`, or after the bound. */
  wait(index: number): Promise<void> {
    if (this.opts.boundMs <= 0 || this.lagging(index).length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const lagging = this.lagging(index);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (lagging.length > 0) this.opts.onBound?.(index, lagging);
        resolve();
      }, this.opts.boundMs);
      const waiter: Waiter = { index, resolve, timer };
      this.waiters.push(waiter);
    });
  }

  /** Drops what is kept for leases no longer open, and ends the waits they alone were holding. */
  prune(): void {
    const open = new Set(this.opts.openLeases());
    for (const lease of this.applied.keys()) if (!open.has(lease)) this.applied.delete(lease);
    this.settle();
  }

  /** Releases every wait (the service is closing). */
  close(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Re-judges every wait against the reports and the open leases. */
  private settle(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.lagging(w.index).length > 0) {
        still.push(w);
        continue;
      }
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waiters = still;
  }

  private lagging(index: number): number[] {
    const out: number[] = [];
    for (const lease of this.opts.openLeases()) if ((this.applied.get(lease) ?? 0) < index) out.push(lease);
    return out;
  }
}
