// Meta.Watch on an owner (docs/cluster-contracts.md "Watch"): every frontend's metadata cache is fed
// from here. A watcher resuming from an index this owner's tail still covers gets the entries after
// it; any other (and a fresh one, from_index 0) gets the machine's whole state as snapshot chunks,
// then SnapshotDone {index}. Then, in index order, the commands as they are applied, and a Progress
// {applied_index} right after the catch-up and every `progressMs` (a watcher knows it is current, and
// that the stream is alive).
//
// Everything a watcher is sent is decided synchronously inside MetaGroupApp's listener calls, so
// the snapshot and the entries after it cannot interleave with an apply. A watcher that does not
// read is dropped once `maxQueuedBytes` wait for it (the client reconnects and resumes), so a slow
// frontend cannot grow an owner's memory without bound.
import { encodeMeta } from '../meta/codec.js';
import type { AppliedEntry, MetaApplyListener, MetaGroupApp } from '../node/meta-group.js';
import { u64 } from '../partition/codec.js';
import type { warren } from '../proto/meta.js';
import type { ServerStream } from '../rpc/server.js';
import { DEFAULT_TAIL_LIMITS, MetaTail, chunks, type TailEntry, type TailLimits } from './meta-tail.js';

type WatchEvent = warren.v1.IWatchEvent;

export interface WatchOptions {
  readonly tail: TailLimits;
  /** Snapshot chunk size (well under gRPC's message limit). */
  readonly chunkBytes: number;
  /** Commands per MetaEntries message. */
  readonly entriesPerEvent: number;
  readonly progressMs: number;
  /** Bytes waiting for one watcher (the transport's buffer is full) before it is dropped. */
  readonly maxQueuedBytes: number;
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = {
  tail: DEFAULT_TAIL_LIMITS, chunkBytes: 256 * 1024, entriesPerEvent: 512, progressMs: 1_000, maxQueuedBytes: 16 * 1024 * 1024,
};

export interface WatchStats {
  /** Watches served from the tail, and from a snapshot. */
  tailStarts: number;
  snapshotStarts: number;
  /** Watchers dropped because they did not read. */
  dropped: number;
}

/** One watcher's stream: writes while the transport takes them, queues (bounded) while it does not. */
class Watcher {
  private queue: WatchEvent[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private closed = false;

  constructor(
    private readonly out: ServerStream<WatchEvent>,
    private readonly maxQueuedBytes: number,
    private readonly onDropped: () => void,
    /** The stream ended (by either side): the hub forgets this watcher. */
    private readonly onEnded: (w: Watcher) => void,
  ) {
    out.onClose(() => this.end());
    out.onDrain(() => this.flush());
  }

  get ended(): boolean {
    return this.closed;
  }

  send(ev: WatchEvent, bytes: number): void {
    if (this.closed) return;
    if (!this.blocked) {
      this.blocked = !this.out.write(ev);
      return;
    }
    this.queue.push(ev);
    this.queuedBytes += bytes;
    if (this.queuedBytes > this.maxQueuedBytes) {
      this.onDropped();
      this.end();
    }
  }

  /** Ends the stream; what the transport still buffers goes when the client reads it or the connection dies. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.out.end();
    this.onEnded(this);
  }

  private flush(): void {
    this.blocked = false;
    while (!this.closed && !this.blocked && this.queue.length > 0) {
      const ev = this.queue.shift()!;
      this.blocked = !this.out.write(ev);
    }
    if (this.queue.length === 0) this.queuedBytes = 0;
  }
}

/** The Watch service of one metadata replica. */
export class MetaWatchHub implements MetaApplyListener {
  readonly stats: WatchStats = { tailStarts: 0, snapshotStarts: 0, dropped: 0 };
  private readonly tail: MetaTail;
  private readonly watchers = new Set<Watcher>();
  private readonly opts: WatchOptions;
  private readonly unlisten: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly app: MetaGroupApp, opts: Partial<WatchOptions> = {}) {
    this.opts = { ...DEFAULT_WATCH_OPTIONS, ...opts };
    this.tail = new MetaTail(this.opts.tail, app.appliedIndex);
    this.unlisten = app.listen(this);
    this.timer = setInterval(() => this.progress(), this.opts.progressMs);
    this.timer.unref();
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Serves one Watch call. */
  watch(req: warren.v1.WatchRequest.$Properties, out: ServerStream<WatchEvent>): void {
    const from = u64(req.fromIndex);
    const w = new Watcher(out, this.opts.maxQueuedBytes, () => this.stats.dropped++, (ended) => this.watchers.delete(ended));
    // Index 0 always starts from the state: the watcher's machine is then exactly this replica's,
    // whatever initial state it was built with.
    const entries = from === 0 ? undefined : this.tail.since(from);
    if (entries === undefined) {
      this.stats.snapshotStarts++;
      this.sendSnapshot(w);
    } else {
      this.stats.tailStarts++;
      this.sendEntries(w, entries);
    }
    w.send({ progress: { appliedIndex: this.app.appliedIndex } }, 16);
    if (!w.ended) this.watchers.add(w);
  }

  applied(entries: readonly AppliedEntry[]): void {
    this.tail.push(entries);
    const commands: TailEntry[] = [];
    for (const e of entries) if (e.command !== undefined) commands.push({ index: e.index, command: e.command });
    if (commands.length === 0) return;
    for (const w of [...this.watchers]) this.sendEntries(w, commands);
  }

  recovered(appliedIndex: number): void {
    // A leader's snapshot replaced the state: the entries it covers were never applied here one by
    // one, so no watcher can be brought forward by entries. They reconnect and get the new state.
    this.tail.reset(appliedIndex);
    for (const w of [...this.watchers]) w.end();
  }

  close(): void {
    clearInterval(this.timer);
    this.unlisten();
    for (const w of [...this.watchers]) w.end();
  }

  private sendSnapshot(w: Watcher): void {
    const data = encodeMeta(this.app.machine.snapshot());
    for (const c of chunks(data, this.opts.chunkBytes)) w.send({ snapshotChunk: { data: c } }, c.length);
    w.send({ snapshotDone: { index: this.app.appliedIndex } }, 16);
  }

  private sendEntries(w: Watcher, entries: readonly TailEntry[]): void {
    for (let at = 0; at < entries.length; at += this.opts.entriesPerEvent) {
      const part = entries.slice(at, at + this.opts.entriesPerEvent);
      const bytes = part.reduce((n, e) => n + e.command.length + 12, 0);
      w.send({ entries: { entries: part.map((e) => ({ index: e.index, command: e.command })) } }, bytes);
    }
  }

  private progress(): void {
    const ev: WatchEvent = { progress: { appliedIndex: this.app.appliedIndex } };
    for (const w of [...this.watchers]) w.send(ev, 16);
  }
}
