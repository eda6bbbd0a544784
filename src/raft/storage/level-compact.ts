// Reclaims the disk space of deleted keys. LevelDB drops a deleted value only when a compaction
// merges the delete with it, and its own compactions are driven by level sizes (10 MiB, 100 MiB,
// 1 GiB, ...), not by how much of a file is dead: under a queue's steady flow (every message
// written, then deleted on settle; every log entry written, then deleted by log compaction) dead
// values pile up in the deeper levels until those fill, some hundreds of MiB for a few MiB live.
//
// So the stores report the key spans they delete, and once `everyBytes` may have died since the
// last round, each span is compacted (db.compactRange), one at a time in the background. What may
// have died: the bytes written since (they may be deleted already) plus the keys deleted since,
// each weighing the average put (a queue drained after its publishers stopped writes nothing but
// tombstones, and frees everything it had).
// Spans hold few live keys (the log tail is above its deleted span; a queue's deleted messages
// form a contiguous run of ids but for the few still held), so a round rewrites little but the
// tombstones. Failures are not fatal: the data is intact, only space is not reclaimed yet.

export interface RangeCompactorStats {
  /** Rounds started, spans compacted, failures. */
  rounds: number;
  spans: number;
  failures: number;
  lastError: string | undefined;
}

/** The write loop's counters (GroupCommitStats). */
export interface WrittenCounters {
  readonly bytes: number;
  readonly puts: number;
}

/** The database capability used (classic-level's compactRange; end exclusive). */
export interface CompactRangeDb {
  compactRange(start: Uint8Array, end: Uint8Array): Promise<void>;
}

interface Span { lo: Uint8Array; hi: Uint8Array }

export class RangeCompactor {
  readonly stats: RangeCompactorStats = { rounds: 0, spans: 0, failures: 0, lastError: undefined };
  /** Deleted key spans since the last round, by span id (e.g. one per group and key kind). */
  private spans = new Map<string, Span>();
  private writtenAtLastRound = 0;
  private deletedKeys = 0;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: CompactRangeDb,
    /** Bytes that may have died since the last round that start a new one (0: never). */
    private readonly everyBytes: number,
    /** What was written to the database so far. */
    private readonly written: WrittenCounters,
  ) {}

  /** `count` keys in [lo, hi] (inclusive, bytewise) were deleted; `id` names the span they extend. */
  deleted(id: string, lo: Uint8Array, hi: Uint8Array, count: number): void {
    this.deletedKeys += count;
    const s = this.spans.get(id);
    if (s === undefined) {
      this.spans.set(id, { lo, hi });
      return;
    }
    if (Buffer.compare(lo, s.lo) < 0) s.lo = lo;
    if (Buffer.compare(hi, s.hi) > 0) s.hi = hi;
  }

  /** Starts a round when enough was written since the last one and none is running. */
  maybeRun(): void {
    if (this.closed || this.running !== undefined || this.everyBytes <= 0) return;
    if (this.spans.size === 0) return;
    const { bytes, puts } = this.written;
    const averagePut = puts === 0 ? 0 : bytes / puts;
    if (bytes - this.writtenAtLastRound + this.deletedKeys * averagePut < this.everyBytes) return;
    this.running = this.round().finally(() => { this.running = undefined; });
  }

  /** Compacts every span deleted so far now (and waits for it). */
  async runNow(): Promise<void> {
    if (this.running !== undefined) await this.running;
    if (this.closed || this.spans.size === 0) return;
    this.running = this.round().finally(() => { this.running = undefined; });
    await this.running;
  }

  /** Stops starting rounds; resolves once the running one is done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running !== undefined) await this.running;
  }

  private async round(): Promise<void> {
    this.writtenAtLastRound = this.written.bytes;
    this.deletedKeys = 0;
    const spans = [...this.spans.values()];
    this.spans = new Map();
    this.stats.rounds++;
    for (const s of spans) {
      if (this.closed) return;
      try {
        await this.db.compactRange(s.lo, justAbove(s.hi));
        this.stats.spans++;
      } catch (err) {
        this.stats.failures++;
        this.stats.lastError = err instanceof Error ? err.message : String(err);
      }
    }
  }
}

/** The smallest key above `k` in bytewise order (k + 0x00): an exclusive end that includes k. */
function justAbove(k: Uint8Array): Uint8Array {
  const out = Buffer.alloc(k.length + 1);
  out.set(k, 0);
  return out;
}
