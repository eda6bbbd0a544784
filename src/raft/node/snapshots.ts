// Streaming InstallSnapshot between drivers. The core decides WHEN a follower needs a snapshot
// (its Snap message carries only the meta of the log's compaction point); the drivers move the
// DATA: the leader reads the group's application keys through a LevelDB snapshot and sends them
// in chunks, paced by the follower's SnapAck; the follower writes each chunk into a staged key
// range and, once the last chunk is written, hands the core a meta-only Snap message. The Ready
// that carries the restored snapshot makes the staged range current (RaftLogStore.save
// `installed`), atomically with the snapshot meta and applied index.
import type { Message, NodeId, SnapshotMeta } from '../core/types.js';
import { MessageType } from '../core/types.js';
import type { RaftLogStore, SnapshotInstall, SnapshotSource } from '../storage/store.js';
import type { RaftCore } from './core.js';

export interface SnapshotOptions {
  /** Bytes of application keys per chunk. */
  readonly chunkBytes: number;
  /** Chunks sent and not yet acknowledged, per follower. */
  readonly window: number;
  /** Ticks without an acknowledgement before the leader gives up on a stream. */
  readonly ackTimeoutTicks: number;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = { chunkBytes: 256 * 1024, window: 4, ackTimeoutTicks: 30 };

type Send = (messages: readonly Message[]) => void;
const EMPTY = new Uint8Array(0);

interface Stream {
  readonly to: NodeId;
  readonly term: number;
  /** Names this stream in its chunks and acks (message context): leader term + a counter. */
  readonly id: Uint8Array;
  source?: SnapshotSource;
  iterator?: AsyncIterator<Uint8Array>;
  meta?: SnapshotMeta;
  /** Bytes sent; bytes acknowledged; chunk ends in flight. */
  sent: number;
  acked: number;
  inflight: number[];
  lastSent: boolean;
  /** The chunk read ahead (to tell whether the one before it is the last). */
  ahead?: Uint8Array | undefined;
  idleTicks: number;
  pumping: boolean;
  closed: boolean;
}

/** Leader side: one stream per follower that needs a snapshot. */
export class SnapshotSender {
  private readonly streams = new Map<NodeId, Stream>();
  private nextId = 0;
  /** Streams completed or failed (for tests and stats). */
  readonly stats = { started: 0, completed: 0, failed: 0, chunks: 0 };

  constructor(
    private readonly store: RaftLogStore,
    private readonly core: RaftCore,
    private readonly send: Send,
    private readonly opts: SnapshotOptions,
    private readonly onFatal: (err: Error) => void,
  ) {}

  /** Takes the core's Snap messages out of `messages`, starting a stream for each follower. */
  filter(messages: readonly Message[]): readonly Message[] {
    if (!messages.some((m) => m.type === MessageType.Snap)) return messages;
    const out: Message[] = [];
    for (const m of messages) {
      if (m.type !== MessageType.Snap) out.push(m);
      else if (!this.streams.has(m.to)) this.start(m.to, m.term);
    }
    return out;
  }

  private start(to: NodeId, term: number): void {
    const s: Stream = { to, term, id: streamId(term, ++this.nextId), sent: 0, acked: 0, inflight: [], lastSent: false, idleTicks: 0, pumping: false, closed: false };
    this.streams.set(to, s);
    this.stats.started++;
    void this.open(s);
  }

  private async open(s: Stream): Promise<void> {
    try {
      s.source = await this.store.openSnapshot();
      if (s.closed) return void (await s.source.close());
      // The data is the state at the applied index read through the LevelDB snapshot, which may
      // be newer than the compaction point the core named: describe it with its own meta.
      const meta = this.core.snapshotMetaAt(s.source.applied);
      if (meta === undefined) throw new Error(`no term for snapshot index ${s.source.applied}`);
      s.meta = meta;
      s.iterator = s.source.chunks(this.opts.chunkBytes)[Symbol.asyncIterator]();
      await this.pump(s);
    } catch (err) {
      this.finish(s, true);
      if (!s.closed) this.onFatal(err as Error);
    }
  }

  /** Sends chunks while the window has room; the last chunk is known by reading one ahead. */
  private async pump(s: Stream): Promise<void> {
    const it = s.iterator;
    if (s.pumping || s.closed || it === undefined || s.meta === undefined) return;
    s.pumping = true;
    try {
      while (!s.closed && !s.lastSent && s.inflight.length < this.opts.window) {
        let data = s.ahead;
        s.ahead = undefined;
        if (data === undefined) {
          const r = await it.next();
          data = r.done === true ? EMPTY : r.value;
        }
        const peek = await it.next();
        if (peek.done !== true) s.ahead = peek.value;
        const done = peek.done === true;
        if (s.closed) return;
        this.send([{
          type: MessageType.Snap, from: this.core.status().id, to: s.to, term: s.term, logTerm: 0, index: 0,
          entries: [], commit: 0, reject: false, rejectHint: 0,
          snapshot: { meta: s.meta, data }, snapOffset: s.sent, snapDone: done, context: s.id,
        }]);
        this.stats.chunks++;
        s.sent += data.length;
        s.inflight.push(s.sent);
        s.lastSent = done;
      }
    } finally {
      s.pumping = false;
    }
  }

  /** A follower acknowledged chunks up to ack.snapOffset (or dropped the install: reject). */
  onAck(m: Message): void {
    const s = this.streams.get(m.from);
    if (s === undefined || m.context === undefined || !Buffer.from(s.id).equals(m.context)) return;
    if (m.reject) return this.finish(s, true);
    const upTo = m.snapOffset ?? 0;
    s.idleTicks = 0;
    s.acked = Math.max(s.acked, upTo);
    while (s.inflight.length > 0 && s.inflight[0]! <= upTo) s.inflight.shift();
    if (s.lastSent && s.inflight.length === 0) return this.finish(s, false);
    void this.pump(s).catch((err: unknown) => {
      this.finish(s, true);
      this.onFatal(err as Error);
    });
  }

  tick(): void {
    for (const s of [...this.streams.values()]) if (++s.idleTicks >= this.opts.ackTimeoutTicks) this.finish(s, true);
  }

  /** Ends a stream and tells the core (etcd's ReportSnapshot). */
  private finish(s: Stream, failed: boolean): void {
    if (s.closed) return;
    s.closed = true;
    this.streams.delete(s.to);
    void s.source?.close().catch(() => undefined);
    if (failed) this.stats.failed++;
    else this.stats.completed++;
    this.core.reportSnapshot(s.to, failed);
  }

  stop(): void {
    for (const s of [...this.streams.values()]) {
      s.closed = true;
      void s.source?.close().catch(() => undefined);
    }
    this.streams.clear();
  }
}

function streamId(term: number, n: number): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeDoubleBE(term, 0);
  b.writeDoubleBE(n, 8);
  return b;
}

interface Receiving {
  readonly id: Buffer;
  readonly from: NodeId;
  readonly meta: SnapshotMeta;
  readonly install: SnapshotInstall;
  /** Bytes received so far (the next chunk's expected offset). */
  offset: number;
  written: Promise<void>;
}

/** Follower side: writes chunks into a staged install and hands the core the completed snapshot. */
export class SnapshotReceiver {
  private receiving: Receiving | undefined;
  /** Complete, restored by the core, waiting for the Ready that persists it. */
  private handed: { meta: SnapshotMeta; install: SnapshotInstall } | undefined;
  readonly stats = { installs: 0, dropped: 0 };

  constructor(
    private readonly store: RaftLogStore,
    private readonly core: RaftCore,
    private readonly send: Send,
    /** Steps the completed meta-only Snap message into the core (and schedules a drain). */
    private readonly stepCore: (m: Message) => void,
    private readonly onFatal: (err: Error) => void,
  ) {}

  onChunk(m: Message): void {
    const snap = m.snapshot;
    if (snap === undefined || m.context === undefined) return;
    if (this.handed !== undefined) {
      // Waiting for the Ready that persists it: the leader retries later. Unless the core no
      // longer holds it (a newer one replaced it): then it will never be taken.
      if (this.core.pendingSnapshot() === this.handed.meta) return;
      this.handed.install.abort();
      this.handed = undefined;
    }
    const id = Buffer.from(m.context);
    const offset = m.snapOffset ?? 0;
    let r = this.receiving;
    const same = r !== undefined && r.id.equals(id);
    if (same && offset < r!.offset) return; // a duplicate
    if (!same && offset === 0) {
      if (r !== undefined) this.drop(r);
      r = { id, from: m.from, meta: snap.meta, install: this.store.beginInstall(), offset: 0, written: Promise.resolve() };
      this.receiving = r;
    } else if (r === undefined || !same || r.offset !== offset) {
      // A chunk was lost (or this stream was replaced): drop the install; the leader starts over.
      if (same) this.drop(r!);
      this.ack(m.from, id, offset, true);
      return;
    }
    const cur = r;
    cur.offset += snap.data.length;
    const end = cur.offset;
    // Writes queued before a drop are skipped (the install is aborted), not failed.
    cur.written = cur.written.then(() => (this.receiving === cur ? cur.install.write(snap.data) : undefined));
    cur.written.then(() => {
      if (this.receiving !== cur) return;
      if (m.snapDone === true) this.complete(cur, m);
      this.ack(cur.from, cur.id, end, false);
    }, (err: unknown) => {
      this.drop(cur);
      this.onFatal(err as Error);
    });
  }

  private complete(r: Receiving, m: Message): void {
    this.receiving = undefined;
    const before = this.core.pendingSnapshot();
    this.stepCore({ ...m, snapshot: { meta: r.meta, data: EMPTY }, snapOffset: 0, snapDone: true });
    const pending = this.core.pendingSnapshot();
    // Restored by THIS message (a copy of one already pending, e.g. a re-sent stream, is not).
    if (pending !== undefined && pending !== before && pending.index === r.meta.index && pending.term === r.meta.term) {
      this.handed = { meta: r.meta, install: r.install };
    } else {
      r.install.abort(); // the core had it already (or is not a follower): nothing to install
    }
  }

  /** The Ready persisting the core's restored snapshot takes the staged install that holds its keys. */
  take(meta: SnapshotMeta): SnapshotInstall {
    const h = this.handed;
    if (h === undefined || h.meta.index !== meta.index || h.meta.term !== meta.term) {
      throw new Error(`raft driver: snapshot ${meta.index}/${meta.term} has no streamed data`);
    }
    this.handed = undefined;
    this.stats.installs++;
    return h.install;
  }

  private drop(r: Receiving): void {
    if (this.receiving === r) this.receiving = undefined;
    r.install.abort();
    this.stats.dropped++;
  }

  private ack(to: NodeId, id: Uint8Array, upTo: number, reject: boolean): void {
    this.send([{
      type: MessageType.SnapAck, from: this.core.status().id, to, term: 0, logTerm: 0, index: 0, entries: [],
      commit: 0, reject, rejectHint: 0, snapOffset: upTo, context: id,
    }]);
  }

  stop(): void {
    if (this.receiving !== undefined) this.receiving.install.abort();
    this.receiving = undefined;
    this.handed?.install.abort();
    this.handed = undefined;
  }
}
