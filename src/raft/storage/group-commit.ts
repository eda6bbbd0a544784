// Group commit: one write loop per process. Every group's writes submitted in the same
// event-loop turn — and all those submitted while a write is in flight — go into ONE LevelDB batch
// written with sync:true, so one fsync makes many groups' appends durable. Each submitter's promise
// resolves when the batch holding its ops is durable; batches complete in submission order.

export interface BatchOp {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
}

/** The one capability the loop needs from the database (LevelDB's db.batch). */
export interface BatchSink {
  batch(ops: BatchOp[], options: { sync: boolean }): Promise<void>;
}

export interface GroupCommitStats {
  /** Batches written. */
  batches: number;
  /** Batches written with sync:true (one fsync each). */
  fsyncs: number;
  /** submit() calls folded into those batches. */
  writes: number;
  ops: number;
  /** Raft log entries written (as declared by submitters). */
  entries: number;
  /** Bytes of keys and values written; `puts` of the ops were puts (the rest deletes). */
  bytes: number;
  puts: number;
}

interface Pending {
  readonly ops: readonly BatchOp[];
  readonly sync: boolean;
  readonly entries: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class GroupCommitWriter {
  readonly stats: GroupCommitStats = { batches: 0, fsyncs: 0, writes: 0, ops: 0, entries: 0, bytes: 0, puts: 0 };
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight = false;

  constructor(
    private readonly sink: BatchSink,
    private readonly sync = true,
    /** Cap on ops per batch so one fsync never carries an unbounded write. */
    private readonly maxOpsPerBatch = 50_000,
  ) {}

  /**
   * Queues ops for the next batch; `entries` counts the Raft entries among them (for stats).
   * `sync: false` marks ops that need not be fsynced (etcd's MustSync=false: a hard state whose
   * only change is the commit index, which Raft can re-learn); a batch is fsynced if any of its
   * writes needs it. Unsynced writes still reach the OS before the promise resolves, so they
   * survive kill -9 of the process, just not a machine crash.
   */
  submit(ops: readonly BatchOp[], entries = 0, sync = true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, entries, sync, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything submitted so far is durable. */
  async flushed(): Promise<void> {
    if (this.pending.length === 0 && !this.inFlight) return;
    await this.submit([], 0, false);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // A microtask: the write starts right after the callback that submitted it. Groups that submit
    // in the same callback (the partitions' proposals of one turn are made together) share it, and
    // everything submitted while a write is in flight goes into the next one.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    while (this.pending.length > 0) {
      const taken = this.takeBatch();
      const ops = taken.flatMap((p) => p.ops);
      try {
        if (ops.length > 0) {
          const sync = this.sync && taken.some((p) => p.sync);
          await this.sink.batch(ops, { sync });
          this.count(taken, ops, sync);
        }
        for (const p of taken) p.resolve();
      } catch (err) {
        for (const p of taken) p.reject(err as Error);
      }
    }
    this.inFlight = false;
  }

  private count(taken: readonly Pending[], ops: readonly BatchOp[], synced: boolean): void {
    this.stats.batches++;
    if (synced) this.stats.fsyncs++;
    this.stats.writes += taken.length;
    this.stats.ops += ops.length;
    for (const p of taken) this.stats.entries += p.entries;
    for (const op of ops) {
      this.stats.bytes += op.key.length + (op.value?.length ?? 0);
      if (op.type === 'put') this.stats.puts++;
    }
  }

  private takeBatch(): Pending[] {
    let n = 0;
    let count = 0;
    while (n < this.pending.length && (n === 0 || count + this.pending[n]!.ops.length <= this.maxOpsPerBatch)) {
      count += this.pending[n]!.ops.length;
      n++;
    }
    return this.pending.splice(0, n);
  }
}
