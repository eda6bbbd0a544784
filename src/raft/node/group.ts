// Drives ONE Raft group on this process: the thin shell around a RaftCore (etcd's node.go loop,
// without goroutines). All I/O for the group happens here, in a fixed order per Ready; the
// environment (deferral, timers) comes in through DriverPorts so the simulator can run it.
import type { ConfChange } from '../core/index.js';
import type { Entry, HardState, Message, NodeId, Snapshot, SnapshotMeta } from '../core/types.js';
import { MessageType } from '../core/types.js';
import { BufferedBatch, Overlay, overlayReader } from '../storage/appkv.js';
import type { AppOp, AppReader, RaftLogStore, SaveRequest } from '../storage/store.js';
import type { Applied, GroupApp, RoleInfo } from './app.js';
import { AppliedWeight, DEFAULT_COMPACTION, compactionTarget } from './compaction.js';
import type { CompactionPolicy } from './compaction.js';
import type { CoreReady, RaftCore } from './core.js';
import { CompactionRefusedError, ProposalDroppedError } from './errors.js';
import { nodePorts } from './ports.js';
import type { DriverPorts } from './ports.js';
import { Requests } from './requests.js';
import { DEFAULT_SNAPSHOT_OPTIONS, SnapshotReceiver, SnapshotSender } from './snapshots.js';
import type { SnapshotOptions } from './snapshots.js';

export type { GroupApp } from './app.js';

export interface MessageSender {
  send(group: number, messages: readonly Message[]): void;
}

/** A committed-and-applied proposal: its index, term and the application's result for it. */
export type Committed<R = unknown> = Applied<R>;

export interface GroupDriverOptions {
  /** Storage or invariant failure: the group cannot continue (default: rethrow). */
  readonly onFatal?: (err: Error) => void;
  /** Proposals and reads not answered within this many ms reject (0: never). Default 30 s. */
  readonly proposalTimeoutMs?: number;
  readonly ports?: DriverPorts;
  readonly snapshots?: Partial<SnapshotOptions>;
  readonly compaction?: CompactionPolicy;
  readonly writeBehind?: WriteBehindPolicy;
}

/**
 * How long the application's writes are held back before they go to the store (DESIGN §5): they
 * need no fsync of their own (the log is their durable record until they are written), so holding
 * them lets a message stored and deleted soon after (enqueued, delivered, settled) never be
 * written at all, and keeps the application's writes out of the path of a commit. They are written
 * (with the applied index) once they reach `bytes` or `ops`, after `ticks` ticks, or when the log
 * could not be compacted without them.
 */
export interface WriteBehindPolicy {
  readonly bytes: number;
  readonly ops: number;
  readonly ticks: number;
}

export const DEFAULT_WRITE_BEHIND: WriteBehindPolicy = { bytes: 4 * 1024 * 1024, ops: 20_000, ticks: 20 };

export interface GroupDriverStats {
  readies: number;
  persisted: number;
  sentMessages: number;
  appliedEntries: number;
  /** Applied in memory (reads see it); `durableApplied` once its batch is written. */
  appliedIndex: number;
  durableApplied: number;
  /** Log compactions done here. */
  compactions: number;
  /** Snapshots installed from a leader. */
  restores: number;
}

/** Where a group's log stands (for operators: /metrics, the management API). */
export interface GroupLogStats {
  readonly term: number;
  readonly leader: number;
  /** Entries firstIndex..lastIndex are in the log; below them, the snapshot (the application's keys). */
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Applied and written to the application's keys. */
  readonly durableApplied: number;
  /** Bytes of the applied entries still in the log (at the granularity of applied runs). */
  readonly appliedLogBytes: number;
  readonly compactions: number;
}

/** The outcome of applying one Ready's committed entries (their writes are staged). */
interface Apply {
  readonly applied: number;
  readonly results: readonly unknown[];
}

const NOTHING: CoreReady = { entries: [], messages: [], committedEntries: [], readStates: [] };

interface PendingCompaction {
  readonly index: number;
  readonly resolve: (meta: SnapshotMeta) => void;
  readonly reject: (err: Error) => void;
}

export class GroupDriver {
  readonly stats: GroupDriverStats = {
    readies: 0, persisted: 0, sentMessages: 0, appliedEntries: 0, appliedIndex: 0, durableApplied: 0, compactions: 0, restores: 0,
  };
  readonly snapshotSender: SnapshotSender;
  readonly snapshotReceiver: SnapshotReceiver;
  private readonly requests: Requests;
  private readonly ports: DriverPorts;
  private readonly onFatal: (err: Error) => void;
  private readonly policy: CompactionPolicy;
  /** Bytes of the applied log above the compaction point (the core holds those entries in memory). */
  private readonly weight = new AppliedWeight();
  /** Requested through compact(); run by drain() between Readies, in request order. */
  private readonly compactions: PendingCompaction[] = [];
  private readonly opened: Promise<void>;
  private isOpen = false;
  private draining = false;
  private scheduled = false;
  private stopped = false;
  /** The role last reported to app.roleChanged (term, leader), as made durable. */
  private role: RoleInfo;
  private readonly writeBehind: WriteBehindPolicy;
  /** Application writes of applied entries not yet handed to the store (write-behind). */
  private readonly staged = new Overlay();
  /** The application's reads: the staged writes over the store's. */
  private readonly reader: AppReader;
  /** Ticks since the oldest staged write. */
  private stagedTicks = 0;
  private flushRequested = false;
  /** The newest hard state, and the last one handed to the store (a change of commit index alone waits for the next write). */
  private hardState: HardState | undefined;
  private savedHardState: HardState | undefined;
  /** A leader's snapshot from the moment its write starts until the core has it (advance). */
  private installing: SnapshotMeta | undefined;

  constructor(
    readonly groupId: number,
    private readonly core: RaftCore,
    private readonly store: RaftLogStore,
    private readonly sender: MessageSender,
    private readonly app: GroupApp,
    opts: GroupDriverOptions = {},
  ) {
    this.ports = opts.ports ?? nodePorts;
    this.onFatal = opts.onFatal ?? ((err: Error) => {
      throw err;
    });
    this.policy = opts.compaction ?? DEFAULT_COMPACTION;
    this.writeBehind = opts.writeBehind ?? DEFAULT_WRITE_BEHIND;
    this.reader = overlayReader(this.staged, store.appReader());
    this.requests = new Requests(groupId, this.ports, opts.proposalTimeoutMs ?? 30_000);
    const send = (ms: readonly Message[]): void => this.sendNow(ms);
    const snapOpts = { ...DEFAULT_SNAPSHOT_OPTIONS, ...opts.snapshots };
    this.snapshotSender = new SnapshotSender(store, core, send, snapOpts, (e) => this.fail(e));
    this.snapshotReceiver = new SnapshotReceiver(store, core, send, (m) => {
      this.core.step(m);
      this.schedule();
    }, (e) => this.fail(e));
    const st = core.status();
    this.role = { term: st.term, leader: st.leader, isLeader: st.leader !== 0 && st.leader === st.id };
    this.stats.appliedIndex = st.applied;
    this.stats.durableApplied = st.applied;
    this.opened = this.open(st.applied);
  }

  /** The application reloads from the store (it reflects every entry ≤ applied), then learns its role. */
  private async open(applied: number): Promise<void> {
    await this.app.recover({ appliedIndex: applied, store: this.reader, reason: 'start' });
    this.app.roleChanged?.(this.role);
    this.isOpen = true;
  }

  tick(): void {
    if (this.stopped) return;
    this.core.tick();
    this.snapshotSender.tick();
    if (this.stats.appliedIndex > this.stats.durableApplied && ++this.stagedTicks >= this.writeBehind.ticks) {
      this.flushRequested = true;
    }
    this.schedule();
  }

  /** A message from the network. Snapshot chunks and their acks are the drivers' own business. */
  step(message: Message): void {
    if (this.stopped) return;
    if (message.type === MessageType.Snap) this.snapshotReceiver.onChunk(message);
    else if (message.type === MessageType.SnapAck) this.snapshotSender.onAck(message);
    else this.core.step(message);
    this.schedule();
  }

  /**
   * Proposes `data`. Resolves with its index, term and the result the application's apply returned
   * for it, once the entry is committed AND applied here; rejects with NotLeaderError
   * (`raft: not leader`, leaderHint) when this replica cannot propose, ProposalDroppedError when
   * another entry won that index, or ProposalTimeoutError.
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

  private proposeWith<R>(append: () => { index: number; term: number } | null): Promise<Committed<R>> {
    if (this.stopped) return Promise.reject(new ProposalDroppedError('raft group stopped'));
    let at: { index: number; term: number } | null;
    try {
      at = append();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.schedule(true);
    return this.requests.proposal<R>(at, this.core.status().leader);
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
    const { promise, ctx } = this.requests.read();
    try {
      this.core.readIndex(ctx);
    } catch (err) {
      // No leader known (the core refuses at once): the caller gets the core's error.
      this.requests.failRead(ctx, err as Error);
    }
    this.schedule();
    return promise;
  }

  isLeader(): boolean {
    const s = this.core.status();
    return s.leader === s.id;
  }

  leader(): number {
    return this.core.status().leader;
  }

  /** The current role (as last reported to the application). */
  roleInfo(): RoleInfo {
    return this.role;
  }

  /**
   * Log compaction to `index` (default: the applied index; application writes held back are
   * written first): the driver records a snapshot
   * meta at `index` (its data is the application's keys, read when a follower needs it) and
   * deletes entries ≤ `index`, in one atomic write, then compacts the core's in-memory log.
   * Rejects with CompactionRefusedError when `index` is above the applied index or not above the
   * current snapshot. The policy (CompactionPolicy) calls this on its own.
   */
  compact(index?: number): Promise<SnapshotMeta> {
    if (this.stopped) return Promise.reject(new ProposalDroppedError('raft group stopped'));
    return new Promise<SnapshotMeta>((resolve, reject) => {
      this.compactions.push({ index: index ?? -1, resolve, reject });
      this.schedule();
    });
  }

  /** The log's bounds and indexes now; a read of in-memory state. */
  logStats(): GroupLogStats {
    const st = this.core.status();
    const snapshotIndex = this.snapshotMeta().index;
    const lastIndex = st.lastIndex ?? this.stats.appliedIndex;
    return {
      term: st.term, leader: st.leader, firstIndex: snapshotIndex + 1, lastIndex,
      commitIndex: st.commit ?? this.stats.appliedIndex, appliedIndex: this.stats.appliedIndex,
      durableApplied: this.stats.durableApplied, appliedLogBytes: this.weight.above(snapshotIndex), compactions: this.stats.compactions,
    };
  }

  /** Index and term of the latest snapshot (taken, installed, or being installed); 0 when there is none. */
  snapshotMeta(): SnapshotMeta {
    return this.installing ?? this.core.snapshot().meta;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.requests.stop();
    this.snapshotSender.stop();
    this.snapshotReceiver.stop();
    for (const c of this.compactions.splice(0)) c.reject(new ProposalDroppedError('raft group stopped'));
  }

  /**
   * Coalesces work: many steps and ticks in one turn produce one drain. `urgent` (a proposal): the
   * drain runs right after the current callback, so the entry is written in this turn.
   */
  schedule(urgent = false): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const run = urgent && this.ports.soon !== undefined ? this.ports.soon : this.ports.defer;
    run(() => {
      this.scheduled = false;
      // Most ticks and heartbeats leave nothing to do: skip the async machinery then.
      if (this.draining || this.stopped) return;
      if (this.isOpen && this.compactions.length === 0 && !this.flushRequested && !this.core.hasReady()) return;
      this.drain().catch((err: unknown) => this.fail(err as Error));
    });
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onFatal(err);
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      if (!this.isOpen) await this.opened;
      while (!this.stopped) {
        const c = this.compactions.shift();
        if (c) {
          await this.runCompaction(c);
          continue;
        }
        if (!this.core.hasReady()) {
          if (!this.flushRequested) break;
          await this.writeStaged();
          continue;
        }
        const rd = this.core.ready();
        this.stats.readies++;
        await this.handleReady(rd);
        const to = compactionTarget(
          this.policy, this.stats.durableApplied, this.core.snapshot().meta.index, () => this.core.slowestFollower(), this.weight,
        );
        if (to !== undefined) this.compactions.push({ index: to, resolve: () => undefined, reject: () => undefined });
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
    //    Committed entries are durable on a quorum already: they are applied FIRST, their writes
    //    staged (write-behind, see WriteBehindPolicy), and their proposers answered without
    //    waiting for this Ready's own write.
    if (rd.snapshot) {
      // The staged keys become the state with the snapshot; entries after it apply on top.
      this.installing = rd.snapshot.meta;
      await this.persist(rd, false, rd.snapshot);
      if (this.stopped) return;
      await this.installed(rd.snapshot);
      if (rd.committedEntries.length > 0) {
        const a = await this.applyEntries(rd.committedEntries);
        this.requests.applied(rd.committedEntries, a.results);
      }
    } else {
      if (rd.committedEntries.length > 0) {
        const pending = this.applyEntries(rd.committedEntries);
        const a = pending instanceof Promise ? await pending : pending;
        if (this.stopped) return;
        this.requests.applied(rd.committedEntries, a.results);
      }
      const saved = this.persist(rd, this.flushDue());
      if (saved !== undefined) await saved;
    }
    if (this.stopped) return;
    this.reportRole(rd);
    // 2. SEND the messages that depend on that state (snapshots: streamed, see snapshots.ts).
    this.sendNow(this.snapshotSender.filter(rd.messages));
    // 3. ANSWER read points once applied that far (proposals were answered when applied).
    this.requests.readStates(rd.readStates, this.stats.appliedIndex);
    // 4. ADVANCE: tell the core all of the above is done so it can hand out the next Ready.
    this.core.advance(rd);
    this.installing = undefined;
  }

  /** Whether the staged application writes go to the store with this Ready's write. */
  private flushDue(): boolean {
    if (this.stats.appliedIndex <= this.stats.durableApplied) return false;
    const wb = this.writeBehind;
    if (this.flushRequested || this.staged.stagedBytes >= wb.bytes || this.staged.stagedCount >= wb.ops) return true;
    // The log cannot be compacted beyond what is written: do not let it grow past the policy for it.
    const every = this.policy.everyBytes ?? 0;
    return every > 0 && this.weight.above(this.stats.durableApplied) >= every;
  }

  /**
   * The Ready's write, with the staged application writes if `flush`; undefined when there is
   * none. A hard state that changed only its commit index is written with the next write: Raft
   * re-learns the commit index, and every write of the applied index carries the newest hard state
   * (so the stored commit index is never below the stored applied index).
   */
  private persist(rd: CoreReady, flush: boolean, snapshot?: Snapshot): Promise<void> | undefined {
    const hs = rd.hardState;
    if (hs) this.hardState = hs;
    const saved = this.savedHardState;
    const termOrVote = hs !== undefined && (saved?.term !== hs.term || saved.vote !== hs.vote);
    if (rd.entries.length === 0 && snapshot === undefined && !flush && !termOrVote) return undefined;
    let apply: { ops: readonly AppOp[]; applied: number } | undefined;
    let token = 0;
    if (flush && snapshot === undefined) {
      const taken = this.staged.take();
      apply = { ops: taken.ops, applied: this.stats.appliedIndex };
      token = taken.token;
      this.flushRequested = false;
      this.stagedTicks = 0;
    }
    const hardState = this.hardState !== saved ? this.hardState : undefined;
    const req: SaveRequest = {
      ...(hardState ? { hardState } : {}),
      ...(rd.entries.length > 0 ? { entries: rd.entries } : {}),
      ...(snapshot ? { snapshot, installed: this.snapshotReceiver.take(snapshot.meta) } : {}),
      ...(apply ? { apply } : {}),
    };
    if (!req.hardState && !req.entries && !req.snapshot && !req.apply) return undefined;
    if (hardState) this.savedHardState = hardState;
    return this.store.save(req).then(() => {
      this.stats.persisted += rd.entries.length;
      if (apply) {
        this.staged.written(token, apply.ops);
        this.stats.durableApplied = apply.applied;
      }
      if (snapshot) this.stats.durableApplied = snapshot.meta.index;
    });
  }

  /** Hands the staged application writes to the store now, with the applied index and the newest hard state. */
  private async writeStaged(): Promise<void> {
    await this.persist(NOTHING, true);
  }

  /** Applies committed entries (synchronously when the application does); their writes are staged. */
  private applyEntries(entries: readonly Entry[]): Apply | Promise<Apply> {
    const batch = new BufferedBatch(this.reader);
    const out = this.app.apply(entries, batch);
    const done = (results: readonly unknown[]): Apply => {
      if (results.length !== entries.length) {
        throw new Error(`raft driver: apply returned ${results.length} results for ${entries.length} entries`);
      }
      const last = entries[entries.length - 1]!.index;
      let bytes = 0;
      for (const e of entries) bytes += e.data.length;
      this.weight.add(last, bytes);
      this.stats.appliedIndex = last;
      this.stats.appliedEntries += entries.length;
      this.staged.stage(batch.ops);
      return { applied: last, results };
    };
    return out instanceof Promise ? out.then(done) : done(out);
  }

  /**
   * The snapshot's keys are durable: the application reloads from them. Until it has, what it holds
   * is its state from before, so the applied index (what readers are told the application
   * reflects) moves to the snapshot only afterwards.
   */
  private async installed(snapshot: Snapshot): Promise<void> {
    this.stats.restores++;
    this.weight.reset(snapshot.meta.index);
    // The installed keys replace every write held back (they reflect the entries those came from).
    this.staged.clear();
    this.stagedTicks = 0;
    await this.app.recover({ appliedIndex: snapshot.meta.index, store: this.reader, reason: 'snapshot', snapshot: snapshot.meta });
    this.stats.appliedIndex = snapshot.meta.index;
  }

  private sendNow(messages: readonly Message[]): void {
    if (messages.length === 0 || this.stopped) return;
    this.sender.send(this.groupId, messages);
    this.stats.sentMessages += messages.length;
  }

  /** Tells the application of a term or leader change made durable by `rd` (Ra's state_enter). */
  private reportRole(rd: CoreReady): void {
    const term = rd.hardState?.term ?? this.role.term;
    const leader = rd.softState?.lead ?? this.role.leader;
    if (term === this.role.term && leader === this.role.leader) return;
    this.role = { term, leader, isLeader: leader !== 0 && leader === this.core.status().id };
    // Snapshot streams belong to a leader's term: a follower's core would refuse them anyway.
    if (!this.role.isLeader) this.snapshotSender.stop();
    this.app.roleChanged?.(this.role);
  }

  /**
   * No Ready is outstanding here. The snapshot meta is durable with the deletion of the entries
   * it replaces before the core's log forgets them; its data is the application's keys, which
   * reflect at least `index` (index ≤ durable applied).
   */
  private async runCompaction(c: PendingCompaction): Promise<void> {
    // Writes held back first, when the compaction asks for more than they let it have.
    const want = c.index < 0 ? this.stats.appliedIndex : c.index;
    if (want > this.stats.durableApplied && want <= this.stats.appliedIndex) await this.writeStaged();
    const index = c.index < 0 ? this.stats.durableApplied : c.index;
    const current = this.core.snapshot().meta.index;
    let reason: string | undefined;
    if (index > this.stats.durableApplied) reason = `only ${this.stats.durableApplied} applied`;
    else if (index <= current) reason = `not newer than the snapshot at ${current}`;
    if (reason !== undefined) {
      c.reject(new CompactionRefusedError(this.groupId, index, reason));
      return;
    }
    const snap = this.core.createSnapshot(index, new Uint8Array(0));
    await this.store.compact(snap);
    this.core.compact(index);
    this.weight.compactedTo(index);
    this.stats.compactions++;
    c.resolve(snap.meta);
  }
}
