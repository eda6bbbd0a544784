// The synchronous view of the stable log that the core reads (etcd's Storage / MemoryStorage).
//
// Ownership: the core only ever *reads* a Storage. The driver *writes* it, after (or as part of)
// making each Ready durable: applySnapshot(rd.snapshot), append(rd.entries), setHardState(rd.hardState).
// The application compacts it (createSnapshot + compact) once it has applied up to an index.
// The durable LevelDB store loads into a MemoryStorage on start and writes through it, so the
// MemoryStorage always equals what is on disk plus nothing that is not.
import { CompactedError, SnapshotOutOfDateError, UnavailableError, invariant } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { EMPTY_HARD_STATE, EntryType } from './types.js';
import { EMPTY_BYTES, limitSize } from './util.js';

export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [], votersOutgoing: [] };

export function emptySnapshot(): Snapshot {
  return { meta: { index: 0, term: 0, confState: EMPTY_CONF_STATE }, data: EMPTY_BYTES };
}

export interface InitialState {
  readonly hardState: HardState;
  /** The membership at the snapshot (later conf changes are replayed from the log). */
  readonly confState: ConfState;
}

export interface Storage {
  initialState(): InitialState;
  /** Entries [lo, hi), at most maxBytes (but at least one). Throws CompactedError / UnavailableError. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i; i may be firstIndex()-1 (the snapshot's term). Throws outside that range. */
  term(i: number): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** An in-memory Storage. ents[0] is a dummy entry carrying the snapshot's index and term. */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [dummy(0, 0)];

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  hardStateNow(): HardState {
    return this.hardState;
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(i: number): number {
    const off = this.offset();
    if (i < off) throw new CompactedError();
    const e = this.ents[i - off];
    if (e === undefined) throw new UnavailableError();
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.offset();
    if (lo <= off) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    if (lo >= hi) return [];
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the log with an installed snapshot (Ready.snapshot). */
  applySnapshot(s: Snapshot): void {
    if (this.snap.meta.index >= s.meta.index) throw new SnapshotOutOfDateError();
    this.snap = s;
    this.ents = [dummy(s.meta.index, s.meta.term)];
  }

  /** Records the application's snapshot at index i (≤ lastIndex). Call compact(i) afterwards. */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.meta.index) throw new SnapshotOutOfDateError();
    invariant(i <= this.lastIndex(), `snapshot ${i} beyond last index ${this.lastIndex()}`);
    this.snap = { meta: { index: i, term: this.term(i), confState }, data };
    return this.snap;
  }

  /** Discards entries ≤ compactIndex; the caller has a snapshot covering them. */
  compact(compactIndex: number): void {
    const off = this.offset();
    if (compactIndex <= off) throw new CompactedError();
    invariant(compactIndex <= this.lastIndex(), `compact ${compactIndex} beyond last ${this.lastIndex()}`);
    const i = compactIndex - off;
    const e = this.ents[i]!;
    this.ents = [dummy(e.index, e.term), ...this.ents.slice(i + 1)];
  }

  /** Appends entries, truncating any conflicting suffix first (Raft §5.3). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[entries.length - 1]!.index;
    if (lastNew < first) return;
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const at = ents[0]!.index - this.offset();
    invariant(at <= this.ents.length, `missing log entry: last ${this.lastIndex()}, append at ${ents[0]!.index}`);
    // In place (ents is never handed out: entries() returns copies), so an append costs the entries
    // appended, not the whole log: a partition's log holds thousands of entries between compactions.
    this.ents.length = at;
    for (const e of ents) this.ents.push(e);
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_BYTES };
}
