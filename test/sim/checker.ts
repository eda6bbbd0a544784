// The safety properties, checked after every simulator step (Raft paper Figure 3):
//   election safety      at most one leader per term (per group)
//   log matching         an (index, term) pair names one entry, with one predecessor term
//   leader completeness  a leader holds every entry committed before its term
//   state-machine safety no two replicas apply different entries at one index
// plus read linearizability: a ReadIndex answer is ≥ every index acknowledged before the request.
import type { Entry, NodeId } from '../../src/raft/core/index.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

interface Committed {
  term: number;
  /** Lowest term of a replica that observed the commit: the commit happened in a term ≤ this. */
  observedTerm: number;
}

export class GroupChecker {
  private leaders = new Map<number, NodeId>();
  private entries = new Map<string, { prevTerm: number | undefined; data: string }>();
  private committed = new Map<number, Committed>();
  private applied = new Map<number, string>();
  maxCommitted = 0;
  ackedIndex = 0;
  private ackedSet = new Set<number>();

  constructor(readonly group: number) {}

  private fail(msg: string): never {
    throw new SafetyViolation(`group ${this.group}: ${msg}`);
  }

  /** Election safety. Returns true when (term, id) is a newly seen leader. */
  leader(term: number, id: NodeId): boolean {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== id) this.fail(`two leaders in term ${term}: ${prev} and ${id}`);
    this.leaders.set(term, id);
    return prev === undefined;
  }

  /** Log matching, on every entry a replica is about to persist. */
  entry(e: Entry, prevTerm: number | undefined, who: NodeId): void {
    const key = `${e.index}:${e.term}`;
    const data = `${e.type}:${Buffer.from(e.data).toString('base64')}`;
    const seen = this.entries.get(key);
    if (seen === undefined) {
      this.entries.set(key, { prevTerm, data });
      return;
    }
    if (seen.data !== data) this.fail(`log matching: two entries at index ${e.index} term ${e.term} (node ${who})`);
    if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
      this.fail(`log matching: entry ${key} follows term ${seen.prevTerm} and term ${prevTerm} (node ${who})`);
    }
  }

  /** A replica at `observerTerm` reports index i (term t) committed. */
  commit(i: number, t: number, observerTerm: number, who: NodeId): void {
    const c = this.committed.get(i);
    if (c === undefined) {
      this.committed.set(i, { term: t, observedTerm: observerTerm });
      if (i > this.maxCommitted) this.maxCommitted = i;
      return;
    }
    if (c.term !== t) this.fail(`committed entry ${i} had term ${c.term}, node ${who} has term ${t}`);
    if (observerTerm < c.observedTerm) c.observedTerm = observerTerm;
  }

  /** Leader completeness: a leader of `term` must hold every entry committed in earlier terms. */
  newLeader(term: number, id: NodeId, firstIndex: number, termAt: (i: number) => number | undefined): void {
    for (let i = firstIndex; i <= this.maxCommitted; i++) {
      const c = this.committed.get(i);
      if (c === undefined || c.observedTerm >= term) continue;
      const t = termAt(i);
      if (t !== c.term) this.fail(`leader ${id} of term ${term} lacks committed entry ${i} (term ${c.term}, has ${String(t)})`);
    }
  }

  /** State-machine safety: hash chain after applying index i. */
  apply(i: number, hash: string, who: NodeId): void {
    const h = this.applied.get(i);
    if (h === undefined) this.applied.set(i, hash);
    else if (h !== hash) this.fail(`state machine safety: node ${who} applied a different entry at ${i}`);
  }

  /** The hash chain value after index i, if any replica applied it. */
  hashAt(i: number): string | undefined {
    return this.applied.get(i);
  }

  acked(i: number): void {
    this.ackedSet.add(i);
    if (i > this.ackedIndex) this.ackedIndex = i;
  }

  ackedCount(): number {
    return this.ackedSet.size;
  }

  /** A read answered at `index` for a request issued when `minIndex` had been acknowledged. */
  read(index: number, minIndex: number, who: NodeId): void {
    if (index < minIndex) this.fail(`stale read on node ${who}: read index ${index} < acknowledged ${minIndex}`);
  }
}
