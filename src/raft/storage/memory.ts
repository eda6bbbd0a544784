// In-memory RaftLogStore: the twin of the LevelDB store for tests and the simulator. "Durable"
// means "survives in this object"; a MemoryLogStore can be handed to a restarted driver to model a
// crash that loses nothing that was saved.
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { EMPTY_HARD_STATE } from '../core/types.js';
import { LogBounds, checkSnapshotSize } from './store.js';
import type { PersistedState, RaftLogStore, SaveRequest } from './store.js';

export class MemoryLogStore implements RaftLogStore {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snapshot: Snapshot | undefined;
  /** entries[i] has index bounds.firstIndex + i. */
  private entries: Entry[] = [];
  private readonly bounds = new LogBounds();
  saves = 0;

  load(): Promise<PersistedState> {
    const state: PersistedState = {
      hardState: this.hardState,
      entries: this.entries.slice(),
      ...(this.snapshot ? { snapshot: copySnapshot(this.snapshot) } : {}),
    };
    return Promise.resolve(state);
  }

  save(req: SaveRequest): Promise<void> {
    try {
      if (req.snapshot) {
        checkSnapshotSize(req.snapshot.data);
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
      this.saves++;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  compact(snapshot: Snapshot): Promise<void> {
    try {
      checkSnapshotSize(snapshot.data);
      const firstBefore = this.bounds.firstIndex;
      const plan = this.bounds.planCompact(snapshot.meta);
      if (plan) {
        this.entries.splice(0, snapshot.meta.index - firstBefore + 1);
        this.snapshot = copySnapshot(snapshot);
      }
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

function copyEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

/** Stored and loaded snapshots own their bytes, like a round trip through disk. */
function copySnapshot(s: Snapshot): Snapshot {
  return { meta: s.meta, data: s.data.slice() };
}
