// What the driver needs from the pure Raft core: a RawNode-like object (etcd's rawnode.go).
// The real core (src/raft/core/rawnode.ts) is plugged in through an adapter (adapter.ts); tests
// may plug in anything with this shape.
import type { ConfChange, Ready } from '../core/index.js';
import type { Message, NodeId, Snapshot, SnapshotMeta } from '../core/types.js';

/**
 * One batch of work the core hands to the driver (the core's own Ready, less what the driver does
 * not use): persist hardState/entries/snapshot, then send messages, then apply committedEntries.
 */
export type CoreReady = Pick<Ready, 'softState' | 'hardState' | 'entries' | 'snapshot' | 'messages' | 'committedEntries' | 'readStates'>;

export interface CoreStatus {
  readonly id: NodeId;
  readonly term: number;
  /** Current leader as this replica knows it; 0 when unknown. */
  readonly leader: NodeId;
  /** The applied index the core believes in (set at start from the store, then by advance). */
  readonly applied: number;
  /** The last index of the core's log (persisted or not) and its commit index, where the core reports them. */
  readonly lastIndex?: number;
  readonly commit?: number;
}

export interface RaftCore {
  tick(): void;
  step(message: Message): void;
  /**
   * Appends `data` to the log when this replica is the leader and returns the new entry's index
   * and term (the proposal commits iff the entry at that index has that term). Returns null
   * when this replica is not the leader; throws ProposalDroppedError when the leader refuses.
   */
  propose(data: Uint8Array): { index: number; term: number } | null;
  /** As propose(), for a single-server membership change (see docs/raft.md). */
  proposeConfChange(cc: ConfChange): { index: number; term: number } | null;
  /** Asks the leader to hand leadership to `target` (TimeoutNow once it is caught up). */
  transferLeader(target: NodeId): void;
  /** Requests a linearizable read point; answered later as a ReadState carrying `ctx`. */
  readIndex(ctx: Uint8Array): void;
  hasReady(): boolean;
  ready(): CoreReady;
  /**
   * Acknowledges the last ready(): everything in it is persisted, sent and applied. The adapter
   * also appends the persisted entries / hard state / snapshot to the core's own storage here.
   */
  advance(rd: CoreReady): void;
  status(): CoreStatus;
  /** The latest snapshot in the core's storage (index 0 and empty data when there is none). */
  snapshot(): Snapshot;
  /**
   * Records the application's snapshot at `index` (≤ the applied index) in the core's storage,
   * with the membership as of `index`, WITHOUT compacting: the log is still complete, so the
   * driver can make the snapshot durable first. Throws if `index` is not newer than the current
   * snapshot. From now on the leader may send this snapshot to followers.
   */
  createSnapshot(index: number, data: Uint8Array): Snapshot;
  /** Discards entries ≤ index from the core's storage; call after the snapshot is durable. */
  compact(index: number): void;
  /** The meta of a snapshot of the state at `index` (≥ the first index - 1): term and membership then. */
  snapshotMetaAt(index: number): SnapshotMeta | undefined;
  /** A snapshot restored from a leader's message and not yet handed out in a Ready. */
  pendingSnapshot(): SnapshotMeta | undefined;
  /** Leader: whether the snapshot sent to `id` reached it (etcd's ReportSnapshot). */
  reportSnapshot(id: NodeId, failed: boolean): void;
  /** Leader: the lowest match index among the other members; undefined when not leading. */
  slowestFollower(): number | undefined;
}
