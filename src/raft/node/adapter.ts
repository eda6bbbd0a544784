// Plugs the pure core (src/raft/core RawNode + MemoryStorage) into the driver's RaftCore shape,
// and rebuilds it from durable state. The MemoryStorage the core reads always equals what the
// RaftLogStore holds: it is loaded from load() at start and written in advance(), i.e. only after
// the driver has made that Ready durable — and compacted by compact() only after the snapshot that
// replaces the compacted entries is durable.
import { MemoryStorage, RawNode, StateType, bootstrap, mulberry32 } from '../core/index.js';
import type { ConfChange, Ready } from '../core/index.js';
import { MessageType } from '../core/types.js';
import type { Message, NodeId, Snapshot, SnapshotMeta } from '../core/types.js';
import type { RaftLogStore } from '../storage/store.js';
import type { CoreReady, CoreStatus, RaftCore } from './core.js';
import { ProposalDroppedError } from './errors.js';

export interface OpenCoreOptions {
  readonly id: NodeId;
  /** Initial voters; used only to bootstrap a brand-new group on empty storage. */
  readonly voters: readonly NodeId[];
  readonly store: RaftLogStore;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Election jitter seed (default: derived from id and the wall clock — this is the shell). */
  readonly seed?: number;
  readonly maxInflightMsgs?: number;
  readonly maxSizePerMsgBytes?: number;
  /** InstallSnapshot chunk size (the core's default: 512 KiB). */
  readonly maxSnapshotChunkBytes?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
}

/**
 * Loads the group's durable state into a MemoryStorage and builds the core on it. A store with no
 * state at all is bootstrapped with `voters` (the bootstrap entries are persisted before the core
 * starts, so every initial member's log begins identically).
 */
export async function openCore(opts: OpenCoreOptions): Promise<RaftCore> {
  return (await openRawCore(opts)).core;
}

/**
 * As openCore, also returning the RawNode under the adapter: for the simulator and tests that
 * inspect the core (status, terms) or feed it inputs the driver does not (forwarded proposals).
 */
export async function openRawCore(opts: OpenCoreOptions): Promise<{ core: RaftCore; node: RawNode }> {
  const persisted = await opts.store.load();
  const snapIndex = persisted.snapshot?.meta.index ?? 0;
  if (persisted.applied < snapIndex) {
    throw new Error(`raft: group store applied ${persisted.applied} below its snapshot ${snapIndex}`);
  }
  const storage = new MemoryStorage();
  const fresh = persisted.entries.length === 0 && !persisted.snapshot && persisted.hardState.term === 0;
  if (fresh && opts.voters.length > 0) {
    bootstrap(storage, opts.voters);
    await opts.store.save({ entries: storage.entries(1, storage.lastIndex() + 1, Infinity), hardState: storage.hardStateNow() });
  } else {
    // With its data: this node may lead later and send it to a follower that is behind.
    if (persisted.snapshot) storage.applySnapshot(persisted.snapshot);
    storage.append(persisted.entries);
    storage.setHardState(persisted.hardState);
  }
  const node = new RawNode({
    id: opts.id,
    storage,
    electionTicks: opts.electionTicks,
    heartbeatTicks: opts.heartbeatTicks,
    rand: mulberry32(opts.seed ?? (opts.id * 7919) ^ Date.now()),
    // The application's keys reflect every entry ≤ applied (written with them): resume after it.
    applied: persisted.applied,
    ...(opts.maxInflightMsgs !== undefined ? { maxInflightMsgs: opts.maxInflightMsgs } : {}),
    ...(opts.maxSizePerMsgBytes !== undefined ? { maxSizePerMsgBytes: opts.maxSizePerMsgBytes } : {}),
    ...(opts.maxSnapshotChunkBytes !== undefined ? { maxSnapshotChunkBytes: opts.maxSnapshotChunkBytes } : {}),
    ...(opts.preVote !== undefined ? { preVote: opts.preVote } : {}),
    ...(opts.checkQuorum !== undefined ? { checkQuorum: opts.checkQuorum } : {}),
  });
  return { core: new RawNodeCore(opts.id, node, storage, fresh && opts.voters.length > 0 ? opts.voters.length : undefined), node };
}

/**
 * A replica bootstrapped on empty storage cannot tell a brand-new group from one it was a member
 * of before its disk was wiped (an owner restarted with the same id and no data). In the second
 * case it has forgotten the entries it acknowledged and the votes it cast, so until it has caught
 * up it must not help elect anyone who has moved past the bootstrap entries: its vote could
 * complete a majority for a candidate missing an entry committed with its (lost) acknowledgement.
 * Until it has committed an entry of its leader's term — then it holds every entry committed
 * before that term, like any member — it is "rejoining":
 * - vote and pre-vote requests from candidates beyond the bootstrap log are dropped (as if lost);
 *   on a brand-new group every candidate is still at the bootstrap log, so the first election
 *   is unaffected;
 * - a heartbeat whose commit index is beyond its log (the leader still counts what it lost as
 *   acknowledged; the core would rightly call that corruption) is stepped as an empty append at
 *   that index, which it rejects with where its log ends: the leader then replicates to it from
 *   scratch (core/raft_leader.ts), by snapshot once the log is compacted.
 * Limitation: the state is not persisted; a rejoining replica restarted before it caught up comes
 * back with a non-empty log and votes as a normal member.
 */
class RawNodeCore implements RaftCore {
  /** The Ready handed out and not yet advanced (the core's own object, with readStates). */
  private outstanding: Ready | undefined;

  constructor(
    private readonly id: NodeId,
    private readonly node: RawNode,
    private readonly storage: MemoryStorage,
    /** Set while rejoining: the last index of the bootstrap log (the number of initial voters). */
    private bootstrapLast: number | undefined,
  ) {}

  /** Bootstrapped on empty storage and not yet caught up with a leader (see the class comment). */
  rejoining(): boolean {
    return this.bootstrapLast !== undefined;
  }

  tick(): void {
    this.node.tick();
  }

  step(message: Message): void {
    const last = this.bootstrapLast;
    if (last !== undefined) {
      const m = message;
      if ((m.type === MessageType.Vote || m.type === MessageType.PreVote) && (m.index > last || m.logTerm > 1)) return;
      if (m.type === MessageType.Heartbeat && m.commit > this.node.basicStatus().lastIndex) {
        this.node.step({
          type: MessageType.App, from: m.from, to: m.to, term: m.term, logTerm: m.term, index: m.commit, entries: [],
          commit: m.commit, reject: false, rejectHint: 0,
        });
        return;
      }
    }
    this.node.step(message);
  }

  propose(data: Uint8Array): { index: number; term: number } | null {
    return this.appendAsLeader(() => this.node.propose(data));
  }

  proposeConfChange(cc: ConfChange): { index: number; term: number } | null {
    return this.appendAsLeader(() => this.node.proposeConfChange(cc));
  }

  /**
   * Followers would forward a proposal and we could not learn its index: refuse instead, so the
   * caller retries at the leader (hint from status().leader). `append` throws ProposalDroppedError
   * when the leader refuses (e.g. leadership transfer or a membership change in progress).
   */
  private appendAsLeader(append: () => void): { index: number; term: number } | null {
    if (this.node.basicStatus().state !== StateType.Leader) return null;
    const before = this.node.basicStatus().lastIndex;
    append();
    const after = this.node.basicStatus();
    if (after.lastIndex === before) throw new ProposalDroppedError('the leader did not append the proposal');
    return { index: after.lastIndex, term: after.term };
  }

  transferLeader(target: NodeId): void {
    this.node.transferLeader(target);
  }

  readIndex(ctx: Uint8Array): void {
    this.node.readIndex(ctx);
  }

  hasReady(): boolean {
    return this.node.hasReady();
  }

  ready(): CoreReady {
    this.outstanding = this.node.ready();
    return this.outstanding;
  }

  advance(rd: CoreReady): void {
    // The driver has made rd durable: mirror it into the storage the core reads, then advance.
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    const own = this.outstanding;
    if (own !== rd || !own) throw new Error('raft driver: advance() of a Ready that is not outstanding');
    this.outstanding = undefined;
    this.node.advance(own);
    if (this.bootstrapLast !== undefined) this.checkCaughtUp();
  }

  /** Rejoining ends once an entry of the leader's term is committed here (every earlier commit is then in this log). */
  private checkCaughtUp(): void {
    const s = this.node.basicStatus();
    if (s.term > 1 && s.lead !== 0 && s.commit > (this.bootstrapLast ?? 0) && this.node.termAt(s.commit) === s.term) this.bootstrapLast = undefined;
  }

  status(): CoreStatus {
    const s = this.node.basicStatus();
    return { id: this.id, term: s.term, leader: s.lead, applied: s.applied, lastIndex: s.lastIndex, commit: s.commit };
  }

  snapshotMetaAt(index: number): SnapshotMeta | undefined {
    const term = this.node.termAt(index);
    return term === undefined ? undefined : { index, term, confState: this.node.confStateAt(index) };
  }

  pendingSnapshot(): SnapshotMeta | undefined {
    return this.node.pendingSnapshot();
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    this.node.reportSnapshot(id, failed);
  }

  slowestFollower(): number | undefined {
    const s = this.node.status();
    if (s.state !== StateType.Leader) return undefined;
    let min: number | undefined;
    for (const [id, pr] of s.progress) if (id !== this.id) min = Math.min(min ?? Infinity, pr.match);
    return min;
  }

  snapshot(): Snapshot {
    return this.storage.snapshot();
  }

  createSnapshot(index: number, data: Uint8Array): Snapshot {
    // The membership as of `index` (not the latest: conf changes after it are still in the log).
    return this.storage.createSnapshot(index, this.node.confStateAt(index), data);
  }

  compact(index: number): void {
    this.storage.compact(index);
  }
}
