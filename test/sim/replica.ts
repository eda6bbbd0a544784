// One group's replica on one simulated process, driven exactly as a production driver would:
// take a Ready, make its snapshot/entries/hard state durable (after a simulated fsync delay),
// only then send its messages, apply its committed entries and call advance(). A crash before
// the write completes loses the whole Ready, as a crash before fsync would.
import {
  EntryType,
  MemoryStorage,
  RawNode,
  ConfChangeType,
  decodeConfChange,
  type Ready,
  type NodeId,
  type Message,
  mulberry32,
} from '../../src/raft/core/index.js';
import { applyEntry, decodeApp, GENESIS, isClientValue, encodeApp, type AppState } from './app.js';
import type { GroupChecker } from './checker.js';

export interface ReplicaEnv {
  now(): number;
  rand(): number;
  send(group: number, m: Message): void;
  log(line: string): void;
  diskDelaySteps(): number;
  snapshotEvery: number;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
}

export class Replica {
  node: RawNode | null = null;
  app: AppState = GENESIS;
  private pending: { rd: Ready; at: number } | null = null;
  /** Read requests: ctx key -> minimum acceptable index. */
  reads = new Map<string, number>();
  checkedCommit = 0;
  persisted = 0;

  constructor(
    readonly id: NodeId,
    readonly group: number,
    readonly disk: MemoryStorage,
    private readonly env: ReplicaEnv,
    private readonly checker: GroupChecker,
  ) {}

  /** (Re)starts from the disk: the core reloads hard state and log, the app its snapshot. */
  start(seed: number): void {
    const snap = this.disk.snapshot();
    this.app = snap.meta.index === 0 ? GENESIS : decodeApp(snap.data);
    this.pending = null;
    this.reads.clear();
    this.checkedCommit = 0;
    this.node = new RawNode({
      id: this.id,
      storage: this.disk,
      electionTicks: 10,
      heartbeatTicks: 2,
      maxSizePerMsgBytes: this.env.maxSizePerMsgBytes,
      maxInflightMsgs: this.env.maxInflightMsgs,
      maxSnapshotChunkBytes: 16,
      preVote: true,
      checkQuorum: true,
      rand: mulberry32(seed),
    });
  }

  crash(): void {
    this.node = null;
    this.pending = null;
  }

  /** Takes a Ready if none is being written; completes the write when its time has come. */
  pump(): void {
    const node = this.node;
    if (node === null) return;
    for (let guard = 0; guard < 8; guard++) {
      if (this.pending === null) {
        if (!node.hasReady()) return;
        const rd = node.ready();
        this.checkEntries(node, rd);
        this.pending = { rd, at: this.env.now() + this.env.diskDelaySteps() };
      }
      if (this.pending.at > this.env.now()) return;
      const rd = this.pending.rd;
      this.pending = null;
      this.complete(node, rd);
    }
  }

  private checkEntries(node: RawNode, rd: Ready): void {
    let prev = rd.entries.length > 0 ? node.termAt(rd.entries[0]!.index - 1) : undefined;
    for (const e of rd.entries) {
      this.checker.entry(e, prev, this.id);
      prev = e.term;
    }
  }

  private complete(node: RawNode, rd: Ready): void {
    // (a) durable write: snapshot, entries, hard state, as one atomic batch.
    if (rd.snapshot !== undefined) this.disk.applySnapshot(rd.snapshot);
    this.disk.append(rd.entries);
    if (rd.hardState !== undefined) this.disk.setHardState(rd.hardState);
    this.persisted++;
    // (b) only now the messages that promise it.
    for (const m of rd.messages) this.env.send(this.group, m);
    // (c) apply.
    if (rd.snapshot !== undefined) {
      this.app = decodeApp(rd.snapshot.data);
      this.checker.apply(this.app.applied, this.app.hash, this.id);
      this.env.log(`n${this.id}/g${this.group} installed snapshot @${rd.snapshot.meta.index}`);
    }
    for (const e of rd.committedEntries) {
      if (e.index !== this.app.applied + 1) throw new Error(`node ${this.id} applies ${e.index} after ${this.app.applied}`);
      this.app = applyEntry(this.app, e);
      this.checker.apply(e.index, this.app.hash, this.id);
      if (e.type === EntryType.Normal && isClientValue(e.data)) this.checker.acked(e.index);
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        const kind = Object.entries(ConfChangeType).find(([, v]) => v === cc.type)?.[0];
        if (e.term > 1) this.env.log(`n${this.id}/g${this.group} applied conf ${kind} ${cc.nodeId} @${e.index}`);
      }
    }
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString('hex');
      const min = this.reads.get(key);
      if (min !== undefined) {
        this.checker.read(rs.index, min, this.id);
        this.reads.delete(key);
      }
    }
    node.advance(rd);
    this.maybeCompact(node);
  }

  /** The application snapshots and compacts now and then, so followers need InstallSnapshot. */
  private maybeCompact(node: RawNode): void {
    const applied = this.app.applied;
    if (applied - this.disk.firstIndex() < this.env.snapshotEvery) return;
    if (applied <= this.disk.snapshot().meta.index) return;
    this.disk.createSnapshot(applied, node.confStateAt(applied), encodeApp(this.app));
    const keep = Math.floor(this.env.rand() * 8);
    const to = Math.max(this.disk.firstIndex(), applied - keep);
    if (to > this.disk.firstIndex() - 1) this.disk.compact(Math.min(to, applied));
  }
}
