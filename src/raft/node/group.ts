// Drives ONE Raft group on this process: the thin shell around a RaftCore (etcd's node.go loop,
// without goroutines). All I/O for the group happens here, in a fixed order per Ready.
import type { ConfChange } from '../core/index.js';
import type { Entry, Message, NodeId, Snapshot, SnapshotMeta } from '../core/types.js';
import type { RaftLogStore } from '../storage/store.js';
import type { Applied, RoleInfo } from './app.js';
import type { CoreReady, RaftCore } from './core.js';
import { CompactionRefusedError, NotLeaderError, ProposalDroppedError, ProposalTimeoutError } from './errors.js';

/** The application's state machine for one group. Called in log order, each entry once per run. */
export interface GroupApplication<R = unknown> {
  /**
   * Returns one result per entry (same order), handed to the proposer of that entry on this
   * replica (propose() resolves with it); results of entries proposed elsewhere are dropped.
   * Returning nothing gives every proposer `undefined`.
   */
  apply(entries: readonly Entry[]): readonly R[] | void;
  /** Term or role changed; also once at start. See app.ts GroupApp.roleChanged. */
  roleChanged?(role: RoleInfo): void;
  /**
   * Replace the state with `snapshot` (before later entries apply): one received from the leader
   * (InstallSnapshot, data reassembled from all chunks), or — when the driver is created over a
   * store holding a snapshot — the stored one, since entries ≤ its index are never applied again.
   */
  restore?(snapshot: Snapshot): void;
}

export interface MessageSender {
  send(group: number, messages: readonly Message[]): void;
}

/** A committed-and-applied proposal: its index, term and the application's result for it. */
export type Committed<R = unknown> = Applied<R>;

/** A ReadIndex request: `index` is -1 until the leader's answer (a ReadState) arrives. */
interface PendingRead {
  index: number;
  readonly resolve: (index: number) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (c: Committed<unknown>) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

export interface GroupDriverStats {
  readies: number;
  persisted: number;
  sentMessages: number;
  appliedEntries: number;
  appliedIndex: number;
  /** Snapshots taken here through compact(). */
  compactions: number;
  /** Snapshots handed to app.restore (received from a leader or loaded at start). */
  restores: number;
}

interface PendingCompaction {
  readonly index: number;
  readonly data: Uint8Array;
  readonly resolve: (meta: SnapshotMeta) => void;
  readonly reject: (err: Error) => void;
}

export class GroupDriver {
  readonly stats: GroupDriverStats = {
    readies: 0, persisted: 0, sentMessages: 0, appliedEntries: 0, appliedIndex: 0, compactions: 0, restores: 0,
  };
  private readonly pending = new Map<number, PendingProposal>();
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;
  /** Requested through compact(); run by drain() between Readies, in request order. */
  private readonly compactions: PendingCompaction[] = [];
  private draining = false;
  private scheduled = false;
  private stopped = false;
  /** The role last reported to app.roleChanged (term, leader), as made durable. */
  private role: RoleInfo;

  constructor(
    readonly groupId: number,
    private readonly core: RaftCore,
    private readonly store: RaftLogStore,
    private readonly sender: MessageSender,
    private readonly app: GroupApplication,
    private readonly onFatal: (err: Error) => void,
    private readonly proposalTimeoutMs = 30_000,
  ) {
    // A restarted replica resumes from its durable snapshot: the core will only hand out entries
    // after it (its applied index starts at the snapshot index), so the state must come from it.
    const snap = core.snapshot();
    if (snap.meta.index > 0) this.restore(snap);
    const st = core.status();
    this.role = { term: st.term, leader: st.leader, isLeader: st.leader === st.id && st.id !== 0 };
    this.app.roleChanged?.(this.role);
  }

  tick(): void {
    this.core.tick();
    this.schedule();
  }

  step(message: Message): void {
    if (this.stopped) return;
    this.core.step(message);
    this.schedule();
  }

  /**
   * Proposes `data`. Resolves with its index and term once the entry is committed AND applied
   * here; rejects with NotLeaderError (`raft: not leader`, leaderHint) when this replica cannot
   * propose, ProposalDroppedError when another entry won that index, or ProposalTimeoutError.
   */
  propose<R = unknown>(data: Uint8Array): Promise<Committed<R>> {
    return this.proposeWith<R>(() => this.core.propose(data));
  }

  /**
   * Proposes a single-server membership change (add learner, promote, remove; see docs/raft.md).
   * Resolves once the change is committed and applied here, like propose(). The core refuses (with
   * ProposalDroppedError) while another change is pending or before the leader committed its term.
   */
  changeMembership(cc: ConfChange): Promise<Committed> {
    return this.proposeWith<unknown>(() => this.core.proposeConfChange(cc));
  }

  /** Asks the leader to transfer leadership to `target` (Raft thesis §3.10); fire and forget. */
  transferLeadership(target: NodeId): void {
    if (this.stopped) return;
    this.core.transferLeader(target);
    this.schedule();
  }

  /**
   * A linearizable read point (ReadIndex, Raft thesis §6.4): resolves with an index once this
   * replica has applied at least that far, so state read afterwards reflects every write committed
   * before the call. Rejects on timeout (no leader reachable).
   */
  readIndex(): Promise<number> {
    if (this.stopped) return Promise.reject(new ProposalDroppedError('raft group stopped'));
    const id = this.nextReadId++;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setFloat64(0, id);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(id);
        reject(new ProposalTimeoutError(this.groupId, -1));
      }, this.proposalTimeoutMs > 0 ? this.proposalTimeoutMs : 30_000);
      timer.unref();
      this.reads.set(id, { index: -1, resolve, reject, timer });
      this.core.readIndex(ctx);
      this.schedule();
    });
  }

  private proposeWith<R>(append: () => { index: number; term: number } | null): Promise<Committed<R>> {
    let at: { index: number; term: number } | null;
    try {
      at = this.stopped ? null : append();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (!at) return Promise.reject(new NotLeaderError(this.core.status().leader));
    this.schedule();
    // A proposal of an older term still waiting at this index lost it (its entry was truncated).
    this.settle(at.index, new ProposalDroppedError(`index ${at.index} reused in term ${at.term}`));
    return new Promise<Committed<R>>((resolve, reject) => {
      const timer = this.proposalTimeoutMs > 0
        ? setTimeout(() => {
          if (this.pending.get(at.index) === p) this.settle(at.index, new ProposalTimeoutError(this.groupId, at.index));
        }, this.proposalTimeoutMs)
        : undefined;
      timer?.unref();
      // The application's result type is the caller's promise: R is what its apply returns.
      const p: PendingProposal = { term: at.term, resolve: resolve as (c: Committed<unknown>) => void, reject, timer };
      this.pending.set(at.index, p);
    });
  }

  isLeader(): boolean {
    const s = this.core.status();
    return s.leader === s.id;
  }

  leader(): number {
    return this.core.status().leader;
  }

  /**
   * Log compaction: the application has applied everything ≤ `index` and `data` is its state at
   * exactly `index`. The driver records the snapshot in the core's storage (with the membership
   * at `index`), makes it durable together with the deletion of entries ≤ `index`
   * (RaftLogStore.compact, one atomic write), and only then compacts the core's in-memory log.
   * Followers that need compacted entries get this snapshot (InstallSnapshot). Resolves with the
   * snapshot's meta; rejects with CompactionRefusedError when `index` is above the applied index
   * or not above the current snapshot, and with ProposalDroppedError when the group stops.
   * Runs between Readies, so it never races a Ready's persist/apply.
   */
  compact(index: number, data: Uint8Array): Promise<SnapshotMeta> {
    if (this.stopped) return Promise.reject(new ProposalDroppedError('raft group stopped'));
    return new Promise<SnapshotMeta>((resolve, reject) => {
      this.compactions.push({ index, data, resolve, reject });
      this.schedule();
    });
  }

  /** Index and term of the latest snapshot (taken or installed); 0 when there is none. */
  snapshotMeta(): SnapshotMeta {
    return this.core.snapshot().meta;
  }

  private serveReads(): void {
    for (const [id, r] of this.reads) {
      if (r.index < 0 || r.index > this.stats.appliedIndex) continue;
      this.reads.delete(id);
      clearTimeout(r.timer);
      r.resolve(r.index);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.reads.values()) {
      clearTimeout(r.timer);
      r.reject(new ProposalDroppedError('raft group stopped'));
    }
    this.reads.clear();
    for (const index of [...this.pending.keys()]) this.settle(index, new ProposalDroppedError('raft group stopped'));
    for (const c of this.compactions.splice(0)) c.reject(new ProposalDroppedError('raft group stopped'));
  }

  /** Coalesces work: many steps and ticks in one turn produce one drain. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain().catch((err: unknown) => this.onFatal(err as Error));
    });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      while (!this.stopped) {
        const c = this.compactions.shift();
        if (c) {
          await this.runCompaction(c);
          continue;
        }
        if (!this.core.hasReady()) break;
        const rd = this.core.ready();
        this.stats.readies++;
        await this.handleReady(rd);
      }
    } finally {
      this.draining = false;
    }
  }

  private async handleReady(rd: CoreReady): Promise<void> {
    // ORDER MATTERS (Raft §5.1/Figure 2, etcd node.go):
    // 1. PERSIST entries, hard state and snapshot — group-committed with the other groups' writes,
    //    fsynced. A vote or an append acknowledgement may only leave this node once the term,
    //    vote and entries it promises are durable, or a crash could make this node break it.
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
      await this.store.save({
        ...(rd.hardState ? { hardState: rd.hardState } : {}),
        ...(rd.entries.length > 0 ? { entries: rd.entries } : {}),
        ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
      });
      this.stats.persisted += rd.entries.length;
    }
    if (this.stopped) return;
    this.reportRole(rd);
    // 2. SEND the messages that depend on that state.
    if (rd.messages.length > 0) {
      this.sender.send(this.groupId, rd.messages);
      this.stats.sentMessages += rd.messages.length;
    }
    // 3. APPLY: the snapshot first, then committed entries in order; settle their proposals.
    if (rd.snapshot) this.restore(rd.snapshot);
    if (rd.committedEntries.length > 0) this.apply(rd.committedEntries);
    // Read points answered by the leader: a read is served once this replica applied that far.
    for (const rs of rd.readStates) {
      const r = this.reads.get(new DataView(rs.requestCtx.buffer, rs.requestCtx.byteOffset, 8).getFloat64(0));
      if (r !== undefined) r.index = rs.index;
    }
    this.serveReads();
    // 4. ADVANCE: tell the core all of the above is done so it can hand out the next Ready.
    this.core.advance(rd);
  }

  /**
   * No Ready is outstanding here, so every applied entry is already in the core's storage. The
   * snapshot is durable before the core's log forgets the entries it covers: a crash in between
   * leaves the store with the snapshot and the core is rebuilt from the store anyway.
   */
  private async runCompaction(c: PendingCompaction): Promise<void> {
    const current = this.core.snapshot().meta.index;
    let reason: string | undefined;
    if (c.index > this.stats.appliedIndex) reason = `only ${this.stats.appliedIndex} applied`;
    else if (c.index <= current) reason = `not newer than the snapshot at ${current}`;
    if (reason !== undefined) {
      c.reject(new CompactionRefusedError(this.groupId, c.index, reason));
      return;
    }
    let snap: Snapshot;
    try {
      snap = this.core.createSnapshot(c.index, c.data);
      await this.store.compact(snap);
    } catch (err) {
      c.reject(err as Error);
      throw err; // a storage (or invariant) failure is fatal (onFatal), as for save()
    }
    this.core.compact(c.index);
    this.stats.compactions++;
    c.resolve(snap.meta);
  }

  /** Tells the application of a term or leader change made durable by `rd` (Ra's state_enter). */
  private reportRole(rd: CoreReady): void {
    const term = rd.hardState?.term ?? this.role.term;
    const leader = rd.softState?.lead ?? this.role.leader;
    if (term === this.role.term && leader === this.role.leader) return;
    this.role = { term, leader, isLeader: leader !== 0 && leader === this.core.status().id };
    this.app.roleChanged?.(this.role);
  }

  private restore(snapshot: Snapshot): void {
    this.app.restore?.(snapshot);
    this.stats.restores++;
    this.stats.appliedIndex = snapshot.meta.index;
  }

  private apply(entries: readonly Entry[]): void {
    const results = this.app.apply(entries) ?? undefined;
    if (results !== undefined && results.length !== entries.length) {
      throw new Error(`raft driver: apply returned ${results.length} results for ${entries.length} entries`);
    }
    for (const [i, e] of entries.entries()) {
      this.stats.appliedIndex = e.index;
      const p = this.pending.get(e.index);
      if (!p) continue;
      if (p.term === e.term) this.settle(e.index, { index: e.index, term: e.term, result: results?.[i] });
      else this.settle(e.index, new ProposalDroppedError(`index ${e.index} committed with term ${e.term}, not ${p.term}`));
    }
    this.stats.appliedEntries += entries.length;
  }

  private settle(index: number, outcome: Committed<unknown> | Error): void {
    const p = this.pending.get(index);
    if (!p) return;
    this.pending.delete(index);
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
