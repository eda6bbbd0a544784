// In-memory RaftLogStore: the twin of the LevelDB store for tests and the simulator. "Durable"
// means "survives in this object"; a MemoryLogStore can be handed to a restarted driver to model a
// crash that loses nothing that was saved.
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { EMPTY_HARD_STATE } from '../core/types.js';
import { chunked, compareBytes, decodeChunk, inRange } from './appkv.js';
import { LogBounds, RaftStorageError, checkSnapshotSize } from './store.js';
import type {
  AppKeyRange, AppReader, GroupStorage, PersistedState, RaftLogStore, SaveRequest, SnapshotInstall, SnapshotSource,
} from './store.js';

type Kv = Map<string, readonly [Uint8Array, Uint8Array]>;
const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');

class MemoryInstall implements SnapshotInstall {
  readonly kv: Kv = new Map();
  aborted = false;
  constructor(readonly owner: MemoryLogStore) {}
  write(chunk: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(new RaftStorageError('raft storage: write to an aborted install'));
    for (const [k, v] of decodeChunk(chunk)) this.kv.set(hex(k), [k, v]);
    return Promise.resolve();
  }
  abort(): void {
    this.aborted = true;
    this.kv.clear();
  }
}

export class MemoryLogStore implements RaftLogStore {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snapshot: Snapshot | undefined;
  /** entries[i] has index bounds.firstIndex + i. */
  private entries: Entry[] = [];
  private readonly bounds = new LogBounds();
  private applied = 0;
  private app: Kv = new Map();
  saves = 0;

  load(): Promise<PersistedState> {
    const state: PersistedState = {
      hardState: this.hardState,
      applied: this.applied,
      entries: this.entries.slice(),
      ...(this.snapshot ? { snapshot: copySnapshot(this.snapshot) } : {}),
    };
    return Promise.resolve(state);
  }

  save(req: SaveRequest): Promise<void> {
    try {
      this.saveSync(req);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** save(), applied at once (throws instead of rejecting): for a simulated disk that decides when. */
  saveSync(req: SaveRequest): void {
    if (req.snapshot) {
      checkSnapshotSize(req.snapshot.data);
      if (req.installed !== undefined) {
        if (!(req.installed instanceof MemoryInstall) || req.installed.owner !== this) {
          throw new RaftStorageError('raft storage: foreign install');
        }
        this.app = new Map(req.installed.kv);
        this.applied = req.snapshot.meta.index;
      }
      this.bounds.planSnapshot(req.snapshot.meta);
      this.snapshot = copySnapshot(req.snapshot);
      this.entries = [];
    }
    if (req.entries && req.entries.length > 0) {
      const firstBefore = this.bounds.firstIndex;
      this.bounds.planAppend(req.entries);
      const at = req.entries[0]!.index - firstBefore;
      this.entries.splice(at, this.entries.length - at, ...req.entries.map(copyEntry));
    }
    if (req.hardState) this.hardState = { ...req.hardState };
    if (req.apply) {
      for (const op of req.apply.ops) {
        if (op.type === 'put') this.app.set(hex(op.key), [op.key.slice(), (op.value ?? new Uint8Array(0)).slice()]);
        else this.app.delete(hex(op.key));
      }
      this.applied = req.apply.applied;
    }
    this.saves++;
  }

  compact(snapshot: Snapshot): Promise<void> {
    try {
      this.compactSync(snapshot);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  compactSync(snapshot: Snapshot): void {
    checkSnapshotSize(snapshot.data);
    const firstBefore = this.bounds.firstIndex;
    const plan = this.bounds.planCompact(snapshot.meta);
    if (plan) {
      this.entries.splice(0, snapshot.meta.index - firstBefore + 1);
      this.snapshot = copySnapshot(snapshot);
    }
  }

  appReader(): AppReader {
    return {
      get: (key) => Promise.resolve(this.app.get(hex(key))?.[1].slice()),
      iterate: (range = {}) => pairs(sorted(this.app, range)),
    };
  }

  openSnapshot(): Promise<SnapshotSource> {
    const all = sorted(this.app, {});
    return Promise.resolve({ applied: this.applied, chunks: (bytes) => chunked(pairs(all), bytes), close: () => Promise.resolve() });
  }

  beginInstall(): SnapshotInstall {
    return new MemoryInstall(this);
  }

  /** Every application key and value (tests). */
  appEntries(): Array<readonly [Uint8Array, Uint8Array]> {
    return sorted(this.app, {});
  }
}

function sorted(kv: Kv, range: AppKeyRange): Array<readonly [Uint8Array, Uint8Array]> {
  const out = [...kv.values()].filter(([k]) => inRange(k, range)).map(([k, v]) => [k.slice(), v.slice()] as const);
  out.sort((a, b) => compareBytes(a[0], b[0]) * (range.reverse === true ? -1 : 1));
  return range.limit !== undefined ? out.slice(0, range.limit) : out;
}

async function* pairs(xs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  for (const x of xs) yield x;
}

function copyEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

/** Stored and loaded snapshots own their bytes, like a round trip through disk. */
function copySnapshot(s: Snapshot): Snapshot {
  return { meta: s.meta, data: s.data.slice() };
}

/** The memory twin of LevelRaftStorage's group registry. */
export class MemoryGroupStorage implements GroupStorage {
  private readonly stores = new Map<number, MemoryLogStore>();

  group(id: number): MemoryLogStore {
    let s = this.stores.get(id);
    if (!s) {
      s = new MemoryLogStore();
      this.stores.set(id, s);
    }
    return s;
  }

  deleteGroup(id: number): Promise<void> {
    this.stores.delete(id);
    return Promise.resolve();
  }

  has(id: number): boolean {
    return this.stores.has(id);
  }
}
