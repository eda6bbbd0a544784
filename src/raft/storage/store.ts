// The narrow durable-log contract the Raft driver persists through (hashicorp/raft's LogStore +
// StableStore in one, per group). Two implementations share one contract test suite:
// MemoryLogStore (memory.ts) and the LevelDB store (level.ts).
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../core/types.js';

/**
 * Largest snapshot data a store accepts (one LevelDB value, read whole into memory on load and
 * sent in maxSnapshotChunkBytes chunks by the core). Larger snapshots are refused with
 * RaftStorageError rather than written: an application with more state must chunk it itself.
 */
export const MAX_SNAPSHOT_DATA_BYTES = 64 * 1024 * 1024;

/** Everything a replica needs to rebuild its core after a restart. */
export interface PersistedState {
  readonly hardState: HardState;
  /**
   * The index of the last entry whose application writes are stored (0 for a new group): the
   * application's keys reflect exactly the entries ≤ applied, and the driver resumes after it.
   */
  readonly applied: number;
  /**
   * The last snapshot installed or taken, WITH its data; entries ≤ its index are gone from the
   * log. The application restarts from it, and a leader sends it to followers that are behind.
   */
  readonly snapshot?: Snapshot;
  /** Contiguous, ascending; the first has index snapshotMeta.index + 1 (or 1 without a snapshot). */
  readonly entries: readonly Entry[];
}

/**
 * One durable write. Applied atomically and in this order: snapshot, entries, hardState.
 * - snapshot: an installed snapshot (Ready.snapshot): the whole log is discarded (etcd's
 *   MemoryStorage.ApplySnapshot) and the meta and data recorded; entries in the same save
 *   follow it.
 * - entries: contiguous ascending; appending at index i first deletes every entry ≥ i
 *   (conflicting-suffix truncation, Raft §5.3). entries[0].index must be ≤ lastIndex + 1.
 * - hardState: replaces the stored one.
 */
export interface SaveRequest {
  readonly hardState?: HardState;
  readonly entries?: readonly Entry[];
  readonly snapshot?: Snapshot;
  /**
   * With `snapshot`: the install whose keys were streamed in (beginInstall). Its keys become the
   * application's state and applied becomes snapshot.meta.index, atomically with the snapshot.
   */
  readonly installed?: SnapshotInstall;
  /** Application writes of applied entries, and the index of the last of those entries. */
  readonly apply?: { readonly ops: readonly AppOp[]; readonly applied: number };
}

/** One application write; keys are relative to the group's application prefix. */
export interface AppOp {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  /**
   * The key as its latin1 string (appkv.ts toLatin1), when the writer already has it: the overlays
   * index writes by that string. Stores ignore it.
   */
  readonly id?: string;
  readonly value?: Uint8Array;
  /** A put of a key that does not exist (ApplyBatch.put's `fresh`): a later delete may cancel both. */
  readonly fresh?: boolean;
}

/** Bounds on keys relative to the group's application prefix; bytewise order. All optional. */
export interface AppKeyRange {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/**
 * Reads of the application's own keys. They see every save() submitted so far (also while its
 * batch is still on its way to disk), and nothing else.
 */
export interface AppReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Many keys in one read (LevelDB's getMany); absent: one get per key (readMany). */
  getMany?(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  /** Key order (descending with `reverse`), a consistent point-in-time view; copies. */
  iterate(range?: AppKeyRange): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]>;
}

/**
 * A consistent point-in-time read of the application's keys and the applied index they reflect
 * (a LevelDB snapshot): the data of an InstallSnapshot, read and sent chunk by chunk.
 */
export interface SnapshotSource {
  readonly applied: number;
  /** The keys as encoded chunks (snapchunk.ts) of about `chunkBytes` each; at least one chunk. */
  chunks(chunkBytes: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/**
 * A snapshot being received: its keys are written to a fresh key range, invisible to the
 * application until a save() with `installed` makes them current (atomically with the snapshot
 * meta and applied index). A crash before that leaves the old state intact and the staged range
 * is deleted at the next load(); so is an aborted install.
 */
export interface SnapshotInstall {
  /** Writes one encoded chunk (in order); resolves once written (not fsynced). */
  write(chunk: Uint8Array): Promise<void>;
  /** Discards the staged keys (in the background). */
  abort(): void;
}

export interface RaftLogStore {
  /** Reads the durable state. Must be called once before the first save/compact. */
  load(): Promise<PersistedState>;
  /** The application's keys (see AppReader). */
  appReader(): AppReader;
  /** Opens a consistent read of the application's keys for a snapshot sent to a follower. */
  openSnapshot(): Promise<SnapshotSource>;
  /** Starts receiving a snapshot's keys into a staged range (see SnapshotInstall). */
  beginInstall(): SnapshotInstall;
  /** Resolves once the write is durable (LevelDB: fsynced, shared with other groups' writes). */
  save(req: SaveRequest): Promise<void>;
  /**
   * Log compaction after the application snapshotted its state at snapshot.meta.index: records
   * the snapshot (meta AND data, in the same atomic write) and deletes entries ≤ its index;
   * later entries stay. meta.index ≤ lastIndex; a snapshot not newer than the stored one is a
   * no-op. Data larger than MAX_SNAPSHOT_DATA_BYTES is rejected.
   */
  compact(snapshot: Snapshot): Promise<void>;
}

/** The stores of every group of a process (LevelRaftStorage, MemoryGroupStorage). */
export interface GroupStorage {
  /** The store of one group; the same object for the same id until the group is deleted. */
  group(id: number): RaftLogStore;
  /**
   * Deletes every key of the group (log, hard state, snapshot, applied index, application keys).
   * Durable once resolved; a crash in between is finished by the next open. The group's driver
   * must be stopped first; a later group(id) starts empty.
   */
  deleteGroup(id: number): Promise<void>;
}

/** Thrown on contract violations (a gap in the log, compacting beyond the log). */
export class RaftStorageError extends Error {
  override readonly name = 'RaftStorageError';
  readonly code = 'RAFT_STORAGE';
}

/** Throws unless `data` fits in one stored snapshot value. */
export function checkSnapshotSize(data: Uint8Array): void {
  if (data.length > MAX_SNAPSHOT_DATA_BYTES) {
    throw new RaftStorageError(
      `raft storage: snapshot data of ${data.length} bytes exceeds ${MAX_SNAPSHOT_DATA_BYTES}`,
    );
  }
}

/**
 * Bounds of one group's log, tracked in memory by both stores so a save can compute its deletes
 * without reading: entries firstIndex..lastIndex exist; lastIndex = firstIndex - 1 when empty.
 */
export class LogBounds {
  constructor(
    public firstIndex = 1,
    public lastIndex = 0,
  ) {}

  /** Validates `entries` against the log and returns the index range that must be deleted. */
  planAppend(entries: readonly Entry[]): { delFrom: number; delTo: number } {
    const first = entries[0];
    if (first === undefined) return { delFrom: 1, delTo: 0 };
    if (first.index > this.lastIndex + 1 || first.index < this.firstIndex) {
      throw new RaftStorageError(
        `raft storage: append at ${first.index} outside log [${this.firstIndex}, ${this.lastIndex + 1}]`,
      );
    }
    entries.forEach((e, i) => {
      if (e.index !== first.index + i) throw new RaftStorageError('raft storage: entries not contiguous');
    });
    const newLast = first.index + entries.length - 1;
    // Entries first.index..newLast are overwritten by puts; the stale suffix beyond goes.
    const plan = { delFrom: newLast + 1, delTo: this.lastIndex };
    this.lastIndex = newLast;
    return plan;
  }

  /** An installed snapshot replaces the log: returns the range to delete (all of it). */
  planSnapshot(meta: SnapshotMeta): { delFrom: number; delTo: number } {
    const plan = { delFrom: this.firstIndex, delTo: this.lastIndex };
    this.firstIndex = meta.index + 1;
    this.lastIndex = meta.index;
    return plan;
  }

  /** null when meta is not newer than the current snapshot (nothing to do). */
  planCompact(meta: SnapshotMeta): { delFrom: number; delTo: number } | null {
    if (meta.index < this.firstIndex) return null;
    if (meta.index > this.lastIndex) {
      throw new RaftStorageError(`raft storage: compact ${meta.index} beyond last index ${this.lastIndex}`);
    }
    const plan = { delFrom: this.firstIndex, delTo: meta.index };
    this.firstIndex = meta.index + 1;
    return plan;
  }
}
