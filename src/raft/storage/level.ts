// LevelDB-backed Raft storage: one database per process, one RaftLogStore per group, every
// group's writes funnelled through one GroupCommitWriter (one sync:true batch = one fsync for many
// groups). The only module in the tree that imports `level`. Key layout: keys.ts.
//
// Crash safety: a save's ops go into a single LevelDB batch, which LevelDB applies atomically
// from its write-ahead log; with sync:true the promise resolves only after fsync. After kill -9,
// load() therefore returns exactly the state of the last synced batch.
import { Level } from 'level';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { EMPTY_HARD_STATE } from '../core/types.js';
import {
  decodeEntry, decodeHardState, decodeSnapMeta, encodeEntry, encodeHardState, encodeSnapMeta,
} from './codec.js';
import { GroupCommitWriter } from './group-commit.js';
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
}

export class LevelRaftStorage implements GroupStorage {
  readonly writer: GroupCommitWriter;
  private readonly stores = new Map<number, LevelLogStore>();

  private constructor(readonly db: Level<Uint8Array, Uint8Array>, sync: boolean) {
    const sink: BatchSink = {
      batch: (ops, options) =>
        db.batch(
          ops.map((op) =>
            op.type === 'put'
              ? { type: 'put' as const, key: op.key, value: op.value ?? new Uint8Array(0) }
              : { type: 'del' as const, key: op.key }),
          options,
        ),
    };
    this.writer = new GroupCommitWriter(sink, sync);
  }

  static async open(dir: string, options: LevelRaftStorageOptions = {}): Promise<LevelRaftStorage> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const storage = new LevelRaftStorage(db, options.sync ?? true);
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
    await this.db.clear(logRange(id));
    await this.db.clear(appGroupRange(id));
    const keys = [hardStateKey(id), snapshotKey(id), snapshotDataKey(id), appliedKey(id), removingKey(id)];
    await this.writer.submit(keys.map((key) => ({ type: 'del' as const, key })));
  }

  /** The store of one group; the same object for the same id. */
  group(id: number): RaftLogStore {
    let s = this.stores.get(id);
    if (!s) {
      s = new LevelLogStore(this.db, this.writer, id);
      this.stores.set(id, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await this.writer.flushed();
    await this.db.close();
  }
}

class LevelLogStore implements RaftLogStore {
  private bounds: LogBounds | undefined;
  /** The last hard state submitted: a save changing only its commit index needs no fsync. */
  private lastHardState: HardState = EMPTY_HARD_STATE;
  private readonly app: LevelAppState;

  constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    private readonly writer: GroupCommitWriter,
    private readonly groupId: number,
  ) {
    this.app = new LevelAppState(db, writer, groupId);
  }

  appReader(): AppReader {
    return this.app.reader();
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
    for (let i = range.delFrom; i <= range.delTo; i++) ops.push({ type: 'del', key: logKey(this.groupId, i) });
  }
}
