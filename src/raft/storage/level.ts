// LevelDB-backed Raft storage: one database per process, one RaftLogStore per group, every
// group's writes funnelled through one GroupCommitWriter (one sync:true batch = one fsync for many
// groups). With level-app.ts, the only module in the tree that imports LevelDB (`classic-level`,
// what `level` is on Node, used directly for compactRange and approximateSize). Key layout: keys.ts.
//
// Crash safety: a save's ops go into a single LevelDB batch, which LevelDB applies atomically
// from its write-ahead log; with sync:true the promise resolves only after fsync. After kill -9,
// load() therefore returns exactly the state of the last synced batch.
import { ClassicLevel } from 'classic-level';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { EMPTY_HARD_STATE } from '../core/types.js';
import {
  decodeEntry, decodeHardState, decodeSnapMeta, encodeEntry, encodeHardState, encodeSnapMeta,
} from './codec.js';
import { GroupCommitWriter } from './group-commit.js';
import { RangeCompactor } from './level-compact.js';
import { LevelAppState, LevelInstall } from './level-app.js';
import type { BatchOp, BatchSink } from './group-commit.js';
import {
  REMOVING_PREFIX, appGroupRange, appliedKey, groupOfKey, hardStateKey, indexOfLogKey, logKey, logRange, removingKey,
  snapshotDataKey, snapshotKey,
} from './keys.js';
import { LogBounds, RaftStorageError, checkSnapshotSize } from './store.js';
import type {
  AppReader, GroupStorage, PersistedState, RaftLogStore, SaveRequest, SnapshotInstall, SnapshotSource,
} from './store.js';

export interface LevelRaftStorageOptions {
  /** fsync every batch (default true). false only for tests that do not care about crashes. */
  readonly sync?: boolean;
  /**
   * LevelDB's open-file limit (default 1000; LevelDB clips it to at least 74). LevelDB mmaps the
   * table files it keeps open, and every page a read touches stays in the process's resident set
   * until the file leaves its table cache: with 1000 open files, reading a few hundred MiB of
   * messages back makes as many MiB resident. A small limit bounds that at about
   * (maxOpenFiles - 10) x 2 MiB.
   */
  readonly maxOpenFiles?: number;
  /** LevelDB's table file size (default 2 MiB): with maxOpenFiles, the bound on mapped table bytes. */
  readonly maxFileSize?: number;
  /**
   * Compact the key spans deleted since the last time once this many bytes were written
   * (level-compact.ts; default 64 MiB, 0: leave it to LevelDB).
   */
  readonly compactDeletedEveryBytes?: number;
}

const DEFAULT_COMPACT_DELETED_EVERY_BYTES = 64 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

export class LevelRaftStorage implements GroupStorage {
  readonly writer: GroupCommitWriter;
  readonly compactor: RangeCompactor;
  private readonly stores = new Map<number, LevelLogStore>();

  private constructor(readonly db: ClassicLevel<Uint8Array, Uint8Array>, sync: boolean, compactEvery: number) {
    // A chained batch: abstract-level's array form clones and re-validates every op (about 3x
    // the cost per op of the chained form, measured with 1 KiB values).
    const sink: BatchSink = {
      batch: (ops, options) => {
        const b = db.batch();
        for (const op of ops) {
          if (op.type === 'put') b.put(op.key, op.value ?? EMPTY);
          else b.del(op.key);
        }
        return b.write(options);
      },
    };
    this.writer = new GroupCommitWriter(sink, sync);
    this.compactor = new RangeCompactor(db, compactEvery, this.writer.stats);
  }

  static async open(dir: string, options: LevelRaftStorageOptions = {}): Promise<LevelRaftStorage> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view', valueEncoding: 'view',
      ...(options.maxOpenFiles !== undefined ? { maxOpenFiles: options.maxOpenFiles } : {}),
      ...(options.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {}),
    });
    await db.open();
    const storage = new LevelRaftStorage(db, options.sync ?? true, options.compactDeletedEveryBytes ?? DEFAULT_COMPACT_DELETED_EVERY_BYTES);
    // Deletions interrupted by a crash are finished before any group is opened.
    const end = Buffer.from(REMOVING_PREFIX);
    end[end.length - 1]! += 1;
    for await (const key of db.keys({ gte: REMOVING_PREFIX, lt: end })) await storage.clearGroup(groupOfKey(REMOVING_PREFIX, key));
    return storage;
  }

  async deleteGroup(id: number): Promise<void> {
    this.stores.delete(id);
    await this.writer.submit([{ type: 'put', key: removingKey(id), value: new Uint8Array(0) }]);
    await this.clearGroup(id);
  }

  /** Range deletes of every key of the group, then (one batch) its singletons and the marker. */
  private async clearGroup(id: number): Promise<void> {
    await this.writer.flushed();
    const log = logRange(id);
    const app = appGroupRange(id);
    await this.db.clear(log);
    await this.db.clear(app);
    this.compactor.deleted(`log/${id}`, log.gte, log.lte, 0);
    this.compactor.deleted(`app/${id}`, app.gte, app.lt, 0);
    const keys = [hardStateKey(id), snapshotKey(id), snapshotDataKey(id), appliedKey(id), removingKey(id)];
    await this.writer.submit(keys.map((key) => ({ type: 'del' as const, key })));
  }

  /**
   * Approximate bytes on disk of a group's log and of its application keys: LevelDB's estimate
   * from its table files, so writes still in the memtable (the last few MiB) are not counted, and
   * deleted values not yet compacted away are.
   */
  async groupDiskBytes(id: number): Promise<{ log: number; app: number }> {
    const log = logRange(id);
    const app = appGroupRange(id);
    const [l, a] = await Promise.all([
      this.db.approximateSize(log.gte, justAbove(log.lte)),
      this.db.approximateSize(app.gte, app.lt),
    ]);
    return { log: l, app: a };
  }

  /**
   * Approximate bytes on disk of the application keys [gte, lt) of an opened group (keys relative
   * to its application prefix, as the application writes them); 0 for a group not opened here.
   */
  appDiskBytes(id: number, range: { readonly gte: Uint8Array; readonly lt: Uint8Array }): Promise<number> {
    return this.stores.get(id)?.appDiskBytes(range) ?? Promise.resolve(0);
  }

  /** Approximate bytes on disk of the whole database (table files). */
  totalDiskBytes(): Promise<number> {
    return this.db.approximateSize(new Uint8Array(0), new Uint8Array([0xff]));
  }

  /** The store of one group; the same object for the same id. */
  group(id: number): RaftLogStore {
    let s = this.stores.get(id);
    if (!s) {
      s = new LevelLogStore(this.db, this.writer, this.compactor, id);
      this.stores.set(id, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await this.writer.flushed();
    await this.compactor.close();
    await this.db.close();
  }
}

class LevelLogStore implements RaftLogStore {
  private bounds: LogBounds | undefined;
  /** The last hard state submitted: a save changing only its commit index needs no fsync. */
  private lastHardState: HardState = EMPTY_HARD_STATE;
  private readonly app: LevelAppState;

  constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private readonly writer: GroupCommitWriter,
    private readonly compactor: RangeCompactor,
    private readonly groupId: number,
  ) {
    this.app = new LevelAppState(db, writer, groupId, compactor);
  }

  appReader(): AppReader {
    return this.app.reader();
  }

  appDiskBytes(range: { readonly gte: Uint8Array; readonly lt: Uint8Array }): Promise<number> {
    return this.app.approximateSize(range);
  }

  openSnapshot(): Promise<SnapshotSource> {
    return this.app.openSnapshot();
  }

  beginInstall(): SnapshotInstall {
    return this.app.beginInstall();
  }

  async load(): Promise<PersistedState> {
    await this.writer.flushed();
    const hs = await this.db.get(hardStateKey(this.groupId));
    const snap = await this.db.get(snapshotKey(this.groupId));
    const snapshotMeta = snap ? decodeSnapMeta(snap) : undefined;
    // Meta and data are written in one batch, so both or neither exist (a store written before
    // snapshot data was persisted has meta only: its data loads as empty).
    const snapData = snapshotMeta ? await this.db.get(snapshotDataKey(this.groupId)) : undefined;
    const entries: Entry[] = [];
    for await (const [key, value] of this.db.iterator(logRange(this.groupId))) {
      const e = decodeEntry(value);
      if (e.index !== indexOfLogKey(key)) throw new RaftStorageError('raft storage: key/entry index mismatch');
      entries.push(e);
    }
    const first = (snapshotMeta?.index ?? 0) + 1;
    entries.forEach((e, i) => {
      if (e.index !== first + i) throw new RaftStorageError(`raft storage: log gap at ${first + i}`);
    });
    this.bounds = new LogBounds(first, first + entries.length - 1);
    this.lastHardState = hs ? decodeHardState(hs) : EMPTY_HARD_STATE;
    const applied = await this.app.load();
    return {
      hardState: this.lastHardState,
      applied,
      entries,
      ...(snapshotMeta ? { snapshot: { meta: snapshotMeta, data: snapData ?? new Uint8Array(0) } } : {}),
    };
  }

  save(req: SaveRequest): Promise<void> {
    const bounds = this.loadedBounds();
    const ops: BatchOp[] = [];
    let replacedGen: number | undefined;
    try {
      if (req.snapshot) {
        checkSnapshotSize(req.snapshot.data);
        this.pushDeletes(ops, bounds.planSnapshot(req.snapshot.meta));
        this.pushSnapshot(ops, req.snapshot);
        if (req.installed !== undefined) {
          if (!(req.installed instanceof LevelInstall)) throw new RaftStorageError('raft storage: foreign install');
          replacedGen = this.app.pushInstalled(ops, req.installed, req.snapshot.meta.index);
        }
      }
      const entries = req.entries ?? [];
      if (entries.length > 0) {
        const plan = bounds.planAppend(entries);
        for (const e of entries) ops.push({ type: 'put', key: logKey(this.groupId, e.index), value: encodeEntry(e) });
        this.pushDeletes(ops, plan);
      }
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let mustSync = ops.length > 0;
    const hs = req.hardState;
    if (hs) {
      ops.push({ type: 'put', key: hardStateKey(this.groupId), value: encodeHardState(hs) });
      if (hs.term !== this.lastHardState.term || hs.vote !== this.lastHardState.vote) mustSync = true;
      this.lastHardState = hs;
    }
    // Application writes need no fsync of their own: the log is the durable record of them.
    const app = req.apply;
    const token = app !== undefined ? this.app.pushApply(ops, app) : 0;
    const done = this.writer.submit(ops, req.entries?.length ?? 0, mustSync);
    this.compactor.maybeRun();
    if (app === undefined && replacedGen === undefined) return done;
    return done.then(() => {
      if (app !== undefined) this.app.written(token, app.ops);
      if (replacedGen !== undefined) this.app.dropGen(replacedGen);
    });
  }

  compact(snapshot: Snapshot): Promise<void> {
    const ops: BatchOp[] = [];
    try {
      checkSnapshotSize(snapshot.data);
      const plan = this.loadedBounds().planCompact(snapshot.meta);
      if (!plan) return Promise.resolve();
      // One batch: the snapshot (meta + data) lands atomically with the deletion of the entries
      // it replaces, so a crash leaves either the old log or the new snapshot, never neither.
      this.pushSnapshot(ops, snapshot);
      this.pushDeletes(ops, plan);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.writer.submit(ops);
  }

  private pushSnapshot(ops: BatchOp[], snapshot: Snapshot): void {
    ops.push({ type: 'put', key: snapshotKey(this.groupId), value: encodeSnapMeta(snapshot.meta) });
    ops.push({ type: 'put', key: snapshotDataKey(this.groupId), value: snapshot.data });
  }

  private loadedBounds(): LogBounds {
    if (!this.bounds) throw new RaftStorageError('raft storage: load() must precede save()/compact()');
    return this.bounds;
  }

  private pushDeletes(ops: BatchOp[], range: { delFrom: number; delTo: number }): void {
    if (range.delTo < range.delFrom) return;
    for (let i = range.delFrom; i <= range.delTo; i++) ops.push({ type: 'del', key: logKey(this.groupId, i) });
    const n = range.delTo - range.delFrom + 1;
    this.compactor.deleted(`log/${this.groupId}`, logKey(this.groupId, range.delFrom), logKey(this.groupId, range.delTo), n);
  }
}

/** The smallest key above `k` (k + 0x00): an exclusive bound that includes k. */
function justAbove(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(k.length + 1);
  out.set(k, 0);
  return out;
}
