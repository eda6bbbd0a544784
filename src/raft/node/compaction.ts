// When the driver compacts a group's log on its own. The log only needs entries that are not yet
// durably applied here (the application's keys hold the rest) and those a follower still needs;
// a follower that falls further behind than the policy keeps is sent a snapshot of the keys.
//
// Entries are counted AND weighed: the core keeps every entry of its log in memory (its
// MemoryStorage mirror), so a policy in entries alone lets a log of large entries (a batch of
// message bodies per entry) hold gigabytes before it is compacted. The byte limits bound that.

export interface CompactionPolicy {
  /** Compact once this many applied entries sit above the last compaction point (0: never). */
  readonly everyEntries: number;
  /** Entries kept below the applied index, so a slightly lagging follower gets entries, not a snapshot. */
  readonly keepEntries: number;
  /**
   * Leader only: keep entries a follower still needs, unless that would keep more than this many
   * below the applied index (then the laggard gets a snapshot instead).
   */
  readonly maxKeepForFollowers: number;
  /** Also compact once the applied entries above the last compaction point weigh this many bytes (absent or 0: no byte trigger). */
  readonly everyBytes?: number;
  /** At most this many bytes of entries are kept below the applied index (absent: no byte limit). */
  readonly keepBytes?: number;
  /** Leader only: entries kept for a lagging follower weigh at most this many bytes (absent: no byte limit). */
  readonly maxKeepBytesForFollowers?: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = {
  everyEntries: 10_000, keepEntries: 1_000, maxKeepForFollowers: 50_000,
  everyBytes: 16 * 1024 * 1024, keepBytes: 4 * 1024 * 1024, maxKeepBytesForFollowers: 64 * 1024 * 1024,
};

/**
 * Running weight of the applied log: one mark per applied run of entries (a Ready's committed
 * entries), so weights are known at that granularity. Marks at or below the compaction point are
 * dropped, but for the newest of them (the base).
 */
export class AppliedWeight {
  /** (last index of a run, cumulative bytes through it); both ascending. */
  private marks: { index: number; total: number }[] = [];
  private head = 0;
  private total = 0;

  /** Entries after the previous run, through `lastIndex`, weighing `bytes` were applied. */
  add(lastIndex: number, bytes: number): void {
    const last = this.marks[this.marks.length - 1];
    // Applied again from a lower index: a snapshot install reset the log (reset() normally saw it).
    if (last !== undefined && last.index >= lastIndex) this.reset(0);
    this.total += bytes;
    this.marks.push({ index: lastIndex, total: this.total });
  }

  /** Bytes of applied entries above `index` (at run granularity: a run ending above it counts whole). */
  above(index: number): number {
    let lo = this.head;
    let hi = this.marks.length - 1;
    let at = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.marks[mid]!;
      if (m.index <= index) {
        at = m.total;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return this.total - at;
  }

  /**
   * The lowest run end such that the applied entries above it weigh at most `bytes` (compacting
   * to it keeps at most `bytes`); undefined before anything was applied.
   */
  indexKeeping(bytes: number): number | undefined {
    const floor = this.total - bytes;
    let lo = this.head;
    let hi = this.marks.length - 1;
    let found: number | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.marks[mid]!;
      if (m.total >= floor) {
        found = m.index;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return found;
  }

  /** The log was compacted to `index`: marks below it are no longer needed. */
  compactedTo(index: number): void {
    while (this.head + 1 < this.marks.length && this.marks[this.head + 1]!.index <= index) this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.marks.length) {
      this.marks = this.marks.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets everything: a snapshot was installed, and the applied log starts again at `index`. */
  reset(index: number): void {
    this.marks = index > 0 ? [{ index, total: 0 }] : [];
    this.head = 0;
    this.total = 0;
  }
}

/**
 * The index to compact to now, or undefined. `applied` is the durable applied index; `slowest` the
 * leader's slowest follower's match; `weight` the applied log's weight (absent: entries only).
 */
export function compactionTarget(
  p: CompactionPolicy,
  applied: number,
  snapshotIndex: number,
  slowest: () => number | undefined,
  weight?: AppliedWeight,
): number | undefined {
  const byEntries = p.everyEntries > 0 && applied - p.keepEntries - snapshotIndex >= p.everyEntries;
  const byBytes = weight !== undefined && (p.everyBytes ?? 0) > 0 && weight.above(snapshotIndex) >= (p.everyBytes ?? 0);
  if (!byEntries && !byBytes) return undefined;
  let to = applied - p.keepEntries;
  if (weight !== undefined && p.keepBytes !== undefined) to = Math.max(to, weight.indexKeeping(p.keepBytes) ?? to);
  const slowestFollower = slowest();
  if (slowestFollower !== undefined) {
    let floor = applied - p.maxKeepForFollowers;
    if (weight !== undefined && p.maxKeepBytesForFollowers !== undefined) {
      floor = Math.max(floor, weight.indexKeeping(p.maxKeepBytesForFollowers) ?? floor);
    }
    to = Math.max(Math.min(to, slowestFollower), floor);
  }
  to = Math.min(to, applied);
  return to > snapshotIndex ? to : undefined;
}
