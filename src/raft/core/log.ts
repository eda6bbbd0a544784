// The Raft log as the core sees it: the stable part (Storage) followed by the unstable part.
//   storage:  [firstIndex ............ storage.lastIndex]
//   unstable:                    [offset ........... lastIndex]   (overrides storage from offset)
// `committed` is the highest index known committed; `applied` the highest the application has
// applied (reported through advance). applied ≤ committed ≤ lastIndex always.
import { CompactedError, invariant } from './errors.js';
import { Unstable } from './log_unstable.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { limitSize } from './util.js';

export interface AppendResult {
  readonly lastNewIndex: number;
  /** Index from which entries were (re)written, 0 if the message added nothing new. */
  readonly conflictIndex: number;
}

export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxNextEntsBytes: number,
  ) {
    this.unstable = new Unstable(storage.lastIndex() + 1);
    // The application restarts from its latest snapshot, which may be newer than the
    // compaction point (entries may be kept below it for slow followers).
    this.committed = Math.max(storage.firstIndex() - 1, storage.snapshot().meta.index);
    this.applied = this.committed;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or undefined when i is compacted or beyond the last index. */
  term(i: number): number | undefined {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** §5.4.1: is (lastIndex, term) of a candidate at least as up-to-date as this log? */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** §5.3: append entries after (index, logTerm) if that entry matches; else undefined. */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): AppendResult | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      invariant(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return { lastNewIndex, conflictIndex: ci };
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    invariant(after >= this.committed, `append after ${after} is below committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** First entry whose term differs from ours (or that is new); 0 if all are already present. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * The largest index ≤ index whose term is ≤ term, with that term (etcd's findConflictByTerm).
   * Lets a leader skip a whole term of mismatching entries per round trip instead of one index.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    if (index > this.lastIndex()) return [index, 0];
    for (let i = index; ; i--) {
      const t = this.term(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** The highest index that is durable locally (entries below the unstable offset). */
  stableLastIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return Math.min(this.unstable.offset - 1, this.storage.lastIndex());
  }

  /**
   * Committed entries the application may apply next: committed, not yet applied, and durable
   * locally (an entry is never applied before this node has persisted it).
   */
  nextCommittedEntries(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.stableLastIndex()) + 1;
    if (hi <= lo) return [];
    return this.slice(lo, hi, this.maxNextEntsBytes);
  }

  hasNextCommittedEntries(): boolean {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return Math.min(this.committed, this.stableLastIndex()) + 1 > lo;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) return;
    invariant(toCommit <= this.lastIndex(), `commit ${toCommit} beyond last index ${this.lastIndex()}`);
    this.committed = toCommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    invariant(i <= this.committed && i >= this.applied, `applied ${i} outside [${this.applied}, ${this.committed}]`);
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** §5.4.2: a leader commits by counting replicas only for entries of its own term. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.unstable.restore(s);
  }

  /** Entries from i to the end, at most maxBytes. Throws CompactedError if i is compacted. */
  entriesFrom(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError();
    invariant(hi <= this.lastIndex() + 1, `slice[${lo},${hi}) beyond last index ${this.lastIndex()}`);
    if (lo >= hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stableHi = Math.min(hi, off);
      ents = this.storage.entries(lo, stableHi, maxBytes);
      if (ents.length < stableHi - lo) return ents; // hit the size limit
    }
    if (hi > off) ents = ents.concat(this.unstable.slice(Math.max(lo, off), hi));
    return limitSize(ents, maxBytes);
  }
}
