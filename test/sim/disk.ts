// A simulated disk under the real driver: a MemoryLogStore holds what is durable; every save or
// compaction becomes durable only after a seeded delay (in order, as LevelDB's write-ahead log
// does), and a crash loses everything not yet durable. Application reads see submitted writes at
// once (an overlay, as the LevelDB store's), as the AppReader contract says.
import type { Entry, Snapshot } from '../../src/raft/core/index.js';
import type { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { Overlay, compareBytes, overlayReader } from '../../src/raft/storage/appkv.js';
import type { AppReader, PersistedState, RaftLogStore, SaveRequest, SnapshotInstall, SnapshotSource } from '../../src/raft/storage/store.js';

export interface DiskEnv {
  now(): number;
  delaySteps(): number;
  /** Called with entries as they are submitted (the log-matching check). */
  persisting(entries: readonly Entry[]): void;
}

interface Write {
  readonly at: number;
  /** Applies the write to the durable store (synchronously; throws on a contract violation). */
  readonly run: () => void;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class SimLogStore implements RaftLogStore {
  private queue: Write[] = [];
  private crashed = false;
  private readonly overlay = new Overlay();
  /** The applied index of the last application write submitted (what appReader reflects). */
  submittedApplied = 0;
  /** A snapshot install is submitted and not yet durable (reads still show the old keys). */
  installing = false;

  constructor(
    readonly disk: MemoryLogStore,
    private readonly env: DiskEnv,
  ) {}

  load(): Promise<PersistedState> {
    return this.disk.load();
  }

  save(req: SaveRequest): Promise<void> {
    if (req.entries !== undefined) this.env.persisting(req.entries);
    const ops = req.apply?.ops;
    const token = ops === undefined ? 0 : this.overlay.add(ops);
    if (req.apply !== undefined) this.submittedApplied = req.apply.applied;
    if (req.installed !== undefined && req.snapshot !== undefined) {
      this.installing = true;
      this.overlay.clear(); // as the LevelDB store: the installed keys replace everything
      this.submittedApplied = req.snapshot.meta.index;
    }
    return this.enqueue(() => {
      this.disk.saveSync(req);
      if (ops !== undefined) this.overlay.written(token, ops);
      if (req.installed !== undefined) this.installing = false;
    });
  }

  compact(snapshot: Snapshot): Promise<void> {
    return this.enqueue(() => this.disk.compactSync(snapshot));
  }

  appReader(): AppReader {
    return overlayReader(this.overlay, this.disk.appReader());
  }

  /** Every application key as reads see it now (durable + submitted), in key order. */
  appEntriesNow(): Array<readonly [Uint8Array, Uint8Array]> {
    const merged = new Map<string, readonly [Uint8Array, Uint8Array]>();
    for (const [k, v] of this.disk.appEntries()) merged.set(Buffer.from(k).toString('hex'), [k, v]);
    for (const e of this.overlay.slice({})) {
      const h = Buffer.from(e.key).toString('hex');
      if (e.value === undefined) merged.delete(h);
      else merged.set(h, [e.key, e.value]);
    }
    return [...merged.values()].sort((a, b) => compareBytes(a[0], b[0]));
  }

  openSnapshot(): Promise<SnapshotSource> {
    return this.disk.openSnapshot();
  }

  beginInstall(): SnapshotInstall {
    return this.disk.beginInstall();
  }

  private enqueue(run: () => void): Promise<void> {
    const last = this.queue[this.queue.length - 1]?.at ?? 0;
    const at = Math.max(last, this.env.now() + this.env.delaySteps());
    return new Promise<void>((resolve, reject) => this.queue.push({ at, run, resolve, reject }));
  }

  /** Makes every write due by `now` durable (in order); returns how many completed. */
  complete(now: number): number {
    let n = 0;
    while (!this.crashed && this.queue.length > 0 && this.queue[0]!.at <= now) {
      const w = this.queue.shift()!;
      try {
        w.run();
        w.resolve();
      } catch (err) {
        w.reject(err as Error);
      }
      n++;
    }
    return n;
  }

  /** Pending writes are lost; their promises never settle (the driver is gone). */
  crash(): void {
    this.crashed = true;
    this.queue = [];
    this.overlay.clear();
  }
}
