// When the driver compacts a group's log on its own. The log only needs entries that are not yet
// durably applied here (the application's keys hold the rest) and those a follower still needs;
// a follower that falls further behind than the policy keeps is sent a snapshot of the keys.

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
}

export const DEFAULT_COMPACTION: CompactionPolicy = { everyEntries: 10_000, keepEntries: 1_000, maxKeepForFollowers: 50_000 };

/** The index to compact to now, or undefined. `applied` is the durable applied index; `slowest` the leader's slowest follower's match. */
export function compactionTarget(
  p: CompactionPolicy,
  applied: number,
  snapshotIndex: number,
  slowest: () => number | undefined,
): number | undefined {
  if (p.everyEntries <= 0 || applied - p.keepEntries - snapshotIndex < p.everyEntries) return undefined;
  let to = applied - p.keepEntries;
  const slowestFollower = slowest();
  if (slowestFollower !== undefined) to = Math.max(Math.min(to, slowestFollower), applied - p.maxKeepForFollowers);
  return to > snapshotIndex ? to : undefined;
}
