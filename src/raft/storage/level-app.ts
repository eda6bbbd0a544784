// The application's key range of one group in the shared LevelDB (keys.ts: applied/, app/):
// its writes (folded into the group's Raft save batch), its reads (with the overlay of writes not
// yet in the database), snapshot reads for a lagging follower, and snapshot installs into a fresh
// generation.
import type { ClassicLevel } from 'classic-level';
import { Overlay, chunked, decodeChunk, overlayReader } from './appkv.js';
import type { BatchOp } from './group-commit.js';
import type { GroupCommitWriter } from './group-commit.js';
import type { RangeCompactor } from './level-compact.js';
import { appGenRange, appGroupRange, appPrefix, appliedKey, decodeApplied, encodeApplied } from './keys.js';
import { RaftStorageError } from './store.js';
import type { AppKeyRange, AppOp, AppReader, SnapshotInstall, SnapshotSource } from './store.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** A staged snapshot install: its generation and the chain of its chunk writes. */
export class LevelInstall implements SnapshotInstall {
  private last: Promise<void> = Promise.resolve();
  private aborted = false;

  constructor(
    readonly owner: LevelAppState,
    readonly gen: number,
    private readonly db: Db,
    private readonly writer: GroupCommitWriter,
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(new RaftStorageError('raft storage: write to an aborted install'));
    const prefix = appPrefix(this.owner.groupId, this.gen);
    const ops: BatchOp[] = decodeChunk(chunk).map(([k, v]) => ({ type: 'put', key: Buffer.concat([prefix, k]), value: v }));
    this.last = this.last.then(() => this.writer.submit(ops, 0, false));
    return this.last;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const range = appGenRange(this.owner.groupId, this.gen);
    // After the writes already queued, so none lands behind the delete.
    void this.last.catch(() => undefined).then(() => this.db.clear(range)).catch(() => undefined);
  }
}

export class LevelAppState {
  applied = 0;
  gen = 0;
  private nextGen = 1;
  private readonly overlay = new Overlay();

  constructor(
    private readonly db: Db,
    private readonly writer: GroupCommitWriter,
    readonly groupId: number,
    private readonly compactor?: RangeCompactor,
  ) {}

  /** Reads applied/ and deletes every generation but the current one (garbage of a crash). */
  async load(): Promise<number> {
    const { applied, gen } = decodeApplied(await this.db.get(appliedKey(this.groupId)));
    this.applied = applied;
    this.gen = gen;
    this.nextGen = gen + 1;
    this.overlay.clear();
    const all = appGroupRange(this.groupId);
    const cur = appGenRange(this.groupId, gen);
    await this.db.clear({ gte: all.gte, lt: cur.gte });
    await this.db.clear({ gte: cur.lt, lt: all.lt });
    return applied;
  }

  /** Batch ops for application writes through `applied`; returns the overlay token. */
  pushApply(ops: BatchOp[], app: { readonly ops: readonly AppOp[]; readonly applied: number }): number {
    const prefix = appPrefix(this.groupId, this.gen);
    let lo: Buffer | undefined;
    let hi: Buffer | undefined;
    let deleted = 0;
    for (const op of app.ops) {
      const key = Buffer.concat([prefix, op.key]);
      if (op.type === 'put') {
        ops.push({ type: 'put', key, value: op.value ?? new Uint8Array(0) });
        continue;
      }
      ops.push({ type: 'del', key });
      deleted++;
      if (lo === undefined || Buffer.compare(key, lo) < 0) lo = key;
      if (hi === undefined || Buffer.compare(key, hi) > 0) hi = key;
    }
    if (lo !== undefined && hi !== undefined) this.compactor?.deleted(`app/${this.groupId}`, lo, hi, deleted);
    ops.push({ type: 'put', key: appliedKey(this.groupId), value: encodeApplied(app.applied, this.gen) });
    this.applied = app.applied;
    return this.overlay.add(app.ops);
  }

  written(token: number, ops: readonly AppOp[]): void {
    this.overlay.written(token, ops);
  }

  /** Batch ops making `install`'s generation current with applied = index; returns the old gen. */
  pushInstalled(ops: BatchOp[], install: LevelInstall, index: number): number {
    if (install.owner !== this) throw new RaftStorageError('raft storage: install of another group');
    const old = this.gen;
    ops.push({ type: 'put', key: appliedKey(this.groupId), value: encodeApplied(index, install.gen) });
    this.gen = install.gen;
    this.applied = index;
    this.overlay.clear();
    return old;
  }

  /** Deletes a replaced generation (background; load() finishes it after a crash). */
  dropGen(gen: number): void {
    const range = appGenRange(this.groupId, gen);
    void this.db.clear(range).then(() => this.compactor?.deleted(`app/${this.groupId}`, range.gte, range.lt, 0), () => undefined);
  }

  /** LevelDB's estimate of the bytes on disk of the current generation's keys [gte, lt). */
  approximateSize(range: { readonly gte: Uint8Array; readonly lt: Uint8Array }): Promise<number> {
    const prefix = appPrefix(this.groupId, this.gen);
    return this.db.approximateSize(Buffer.concat([prefix, range.gte]), Buffer.concat([prefix, range.lt]));
  }

  beginInstall(): LevelInstall {
    return new LevelInstall(this, this.nextGen++, this.db, this.writer);
  }

  /** The application's reads: writes not yet in the database over the current generation's keys. */
  reader(): AppReader {
    return overlayReader(this.overlay, {
      get: (key) => this.db.get(Buffer.concat([appPrefix(this.groupId, this.gen), key])),
      getMany: (keys) => {
        const prefix = appPrefix(this.groupId, this.gen);
        return this.db.getMany(keys.map((k) => Buffer.concat([prefix, k])));
      },
      iterate: (range = {}) => this.dbRange(appPrefix(this.groupId, this.gen), range),
    });
  }

  private async *dbRange(prefix: Buffer, r: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const genRange = appGenRange(this.groupId, this.gen);
    const bound = (k: Uint8Array): Uint8Array => Buffer.concat([prefix, k]);
    const it = this.db.iterator({
      ...(r.gt !== undefined ? { gt: bound(r.gt) } : { gte: r.gte !== undefined ? bound(r.gte) : genRange.gte }),
      ...(r.lt !== undefined ? { lt: bound(r.lt) } : r.lte !== undefined ? { lte: bound(r.lte) } : { lt: genRange.lt }),
      reverse: r.reverse === true,
      ...(r.limit !== undefined ? { limit: r.limit } : {}),
    });
    try {
      for await (const [k, v] of it) yield [k.slice(prefix.length), v] as const;
    } finally {
      await it.close();
    }
  }

  /** A LevelDB snapshot of applied/ and the current generation's keys. */
  async openSnapshot(): Promise<SnapshotSource> {
    const snapshot = this.db.snapshot();
    try {
      const { applied, gen } = decodeApplied(await this.db.get(appliedKey(this.groupId), { snapshot }));
      const range = appGenRange(this.groupId, gen);
      const prefixLen = range.gte.length;
      const db = this.db;
      async function* pairs(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
        for await (const [k, v] of db.iterator({ ...range, snapshot })) {
          if (k !== undefined && v !== undefined) yield [k.slice(prefixLen), v] as const;
        }
      }
      return { applied, chunks: (bytes) => chunked(pairs(), bytes), close: () => snapshot.close() };
    } catch (err) {
      await snapshot.close();
      throw err;
    }
  }
}
