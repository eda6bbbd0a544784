// RawNode: the driver-facing API of the core (etcd's rawnode.go).
//
// THE CONTRACT. The driver loops:
//   1. Feed inputs: tick() on its clock, step(msg) for every message received, and the
//      application's requests: propose, proposeConfChange, transferLeader, readIndex, campaign.
//   2. If hasReady(): rd = ready(), then, IN THIS ORDER:
//      a. Persist atomically: rd.snapshot (if any, replaces the log), rd.entries (appending at
//         index i discards every stored entry ≥ i), rd.hardState (if any). Only after this write
//         is durable (fsync) may anything in (b) happen: rd.messages include votes and append
//         acknowledgements that promise the data is on disk (Raft §5.1 Figure 2, "persist before
//         responding"). Write it through the MemoryStorage the core reads (storage.ts).
//      b. Send rd.messages (in any order; the network may drop or reorder them anyway).
//      c. Apply rd.snapshot (if any) to the state machine, then rd.committedEntries in order.
//         Committed entries are always durable locally already, so applying never runs ahead of
//         this node's own log. Serve rd.readStates once applied ≥ readState.index.
//      d. advance(rd). No other ready() may be taken before advance(); inputs (step, tick,
//         propose) may be fed while the write of (a) is in flight.
//   Messages to self are never produced: the leader counts its own log towards a quorum only
//   once advance() reports it persisted, so a leader crash cannot lose a committed entry.
//   3. Compaction is the application's business: after applying up to i it may call
//      storage.createSnapshot(i, rawNode.confStateAt(i), data) then storage.compact(i).
//
// Membership changes take effect when appended (see confchange.ts); ConfChange entries reach the
// application among committedEntries for information only: it need not call anything back.
import { encodeConfChange } from './confchange.js';
import type { ConfChange } from './confchange.js';
import { invariant } from './errors.js';
import type { ProgressState } from './progress.js';
import { Raft, StateType } from './raft.js';
import type { Config, ReadState } from './raft.js';
import * as leader from './raft_leader.js';
import type { MemoryStorage } from './storage.js';
import type { ConfState, Entry, HardState, Message, NodeId, Snapshot, SnapshotMeta } from './types.js';
import { EntryType, MessageType, NONE } from './types.js';

export interface SoftState {
  readonly lead: NodeId;
  readonly state: StateType;
}

export interface Ready {
  /** Leader or role changed (volatile; for the application's information). */
  readonly softState?: SoftState;
  /** To persist (only present when changed). */
  readonly hardState?: HardState;
  /** To persist, before sending messages. */
  readonly entries: readonly Entry[];
  /** An incoming snapshot: persist (replacing the log), then restore the state machine from it. */
  readonly snapshot?: Snapshot;
  /** Committed, locally durable, not yet applied: apply in order. */
  readonly committedEntries: readonly Entry[];
  /** To send after the persist step completes. */
  readonly messages: readonly Message[];
  /** Linearizable read points (ReadIndex answers). */
  readonly readStates: readonly ReadState[];
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lead: NodeId;
  readonly state: StateType;
  readonly conf: ConfState;
  /** Leader only: what it knows of each member's log. */
  readonly progress: ReadonlyMap<NodeId, { match: number; next: number; state: ProgressState }>;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding = false;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first if enabled). */
  campaign(): void {
    this.raft.step(this.local(MessageType.Hup, {}), true);
  }

  /** Throws ProposalDroppedError when no leader is known or the leader refuses. */
  propose(data: Uint8Array): void {
    this.raft.step(this.local(MessageType.Prop, { entries: [entry(EntryType.Normal, data)] }), true);
  }

  /** Throws ProposalDroppedError (pending change) or ConfChangeInvalidError on the leader. */
  proposeConfChange(cc: ConfChange): void {
    this.raft.step(this.local(MessageType.Prop, { entries: [entry(EntryType.ConfChange, encodeConfChange(cc))] }), true);
  }

  /** Asks the leader to hand leadership to `target` (forwarded if this node is a follower). */
  transferLeader(target: NodeId): void {
    this.raft.step({ ...this.local(MessageType.TransferLeader, {}), from: target }, true);
  }

  /** Requests a linearizable read point; it arrives as a ReadState carrying `ctx` (unique). */
  readIndex(ctx: Uint8Array): void {
    invariant(ctx.length > 0, 'readIndex context must be non-empty');
    this.raft.step(this.local(MessageType.ReadIndex, { context: ctx }), true);
  }

  /** A message from the network. */
  step(m: Message): void {
    Raft.checkNotLocal(m);
    this.raft.step(m);
  }

  /** The transport reports whether a snapshot reached `id` (optional; the leader also times out). */
  reportSnapshot(id: NodeId, failed: boolean): void {
    this.raft.step({ ...this.local(MessageType.SnapStatus, { reject: failed }), from: id }, true);
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    const soft = this.softState();
    const hs = r.hardState();
    return (
      soft.lead !== this.prevSoft.lead ||
      soft.state !== this.prevSoft.state ||
      !hardStateEqual(hs, this.prevHard) ||
      r.log.unstable.snapshot !== undefined ||
      r.log.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    invariant(!this.outstanding, 'ready() called again before advance()');
    const r = this.raft;
    const soft = this.softState();
    const hs = r.hardState();
    const snap = r.log.unstable.snapshot;
    const rd: Ready = {
      entries: r.log.unstableEntries(),
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      ...(soft.lead !== this.prevSoft.lead || soft.state !== this.prevSoft.state ? { softState: soft } : {}),
      ...(!hardStateEqual(hs, this.prevHard) ? { hardState: hs } : {}),
      ...(snap !== undefined ? { snapshot: snap } : {}),
    };
    r.msgs = [];
    r.readStates = [];
    this.prevSoft = soft;
    this.prevHard = hs;
    this.outstanding = true;
    return rd;
  }

  /** Acknowledges that `rd` was persisted, sent and applied as the contract above says. */
  advance(rd: Ready): void {
    invariant(this.outstanding, 'advance() without ready()');
    this.outstanding = false;
    const r = this.raft;
    if (rd.snapshot !== undefined) {
      r.log.stableSnapTo(rd.snapshot.meta.index);
      if (rd.snapshot.meta.index > r.log.applied) r.log.appliedTo(rd.snapshot.meta.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.log.stableTo(last.index, last.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) r.log.appliedTo(lastApplied.index);
    // The leader's own vote in the commit quorum: only entries now durable here count.
    const self = r.prs.get(r.id);
    if (r.state === StateType.Leader && self !== undefined && self.maybeUpdate(r.log.stableLastIndex())) {
      if (leader.maybeCommit(r)) leader.afterCommit(r);
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, { match: number; next: number; state: ProgressState }>();
    if (r.state === StateType.Leader) {
      for (const [id, pr] of r.prs) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      lead: r.lead,
      state: r.state,
      conf: r.conf(),
      progress,
    };
  }

  /** Cheap status for per-step checks (no progress map). */
  basicStatus(): { term: number; state: StateType; lead: NodeId; commit: number; lastIndex: number; applied: number } {
    const r = this.raft;
    return { term: r.term, state: r.state, lead: r.lead, commit: r.log.committed, lastIndex: r.log.lastIndex(), applied: r.log.applied };
  }

  /** The membership in force now (the latest conf change in the log). */
  confState(): ConfState {
    return this.raft.conf();
  }

  /** The membership as of log index i, to store with a snapshot taken at i. */
  confStateAt(i: number): ConfState {
    return this.raft.confLog.at(i);
  }

  /** Term of entry i if it is in the log (for checkers and tests). */
  termAt(i: number): number | undefined {
    return this.raft.log.term(i);
  }

  firstIndex(): number {
    return this.raft.log.firstIndex();
  }

  /** The snapshot restored from a leader and not yet handed out in a Ready (undefined if none). */
  pendingSnapshot(): SnapshotMeta | undefined {
    return this.raft.log.unstable.snapshot?.meta;
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, state: this.raft.state };
  }

  private local(type: MessageType, extra: Partial<Message>): Message {
    const id = this.raft.id;
    return { type, from: id, to: id, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...extra };
  }
}

function entry(type: EntryType, data: Uint8Array): Entry {
  return { term: 0, index: 0, type, data };
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * Writes the initial membership of a NEW group into an empty storage, as committed conf-change
 * entries at term 1 (every initial member runs this with the same voters). A node that joins
 * later starts from empty storage instead and learns the group from the leader's log.
 */
export function bootstrap(storage: MemoryStorage, voters: readonly NodeId[]): void {
  invariant(storage.lastIndex() === 0 && storage.firstIndex() === 1, 'bootstrap needs an empty storage');
  invariant(voters.length > 0 && !voters.includes(NONE), 'bootstrap needs voters');
  const ents: Entry[] = voters.map((id, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: 0, nodeId: id }),
  }));
  storage.append(ents);
  storage.setHardState({ term: 1, vote: NONE, commit: ents.length });
}

export { StateType };
export type { Config, ReadState };
