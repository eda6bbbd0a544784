// The driver's outstanding requests: proposals waiting for their entry to be applied here (to
// resolve with the application's result) and ReadIndex reads waiting for their read point.
import type { Entry } from '../core/types.js';
import type { Applied } from './app.js';
import { NotLeaderError, ProposalDroppedError, ProposalTimeoutError } from './errors.js';
import type { DriverPorts, Timer } from './ports.js';

interface PendingProposal {
  readonly term: number;
  readonly resolve: (c: Applied<unknown>) => void;
  readonly reject: (err: Error) => void;
  readonly timer: Timer | undefined;
}

/** `index` is -1 until the leader's answer (a ReadState) arrives. */
interface PendingRead {
  index: number;
  readonly resolve: (index: number) => void;
  readonly reject: (err: Error) => void;
  readonly timer: Timer;
}

export class Requests {
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;

  constructor(
    private readonly groupId: number,
    private readonly ports: DriverPorts,
    private readonly timeoutMs: number,
  ) {}

  /** Waits for the entry appended at `at` (null: this replica is not the leader). */
  proposal<R>(at: { index: number; term: number } | null, leaderHint: number): Promise<Applied<R>> {
    if (!at) return Promise.reject(new NotLeaderError(leaderHint));
    // A proposal of an older term still waiting at this index lost it (its entry was truncated).
    if (this.proposals.has(at.index)) this.settle(at.index, new ProposalDroppedError(`index ${at.index} reused in term ${at.term}`));
    return new Promise<Applied<R>>((resolve, reject) => {
      const timer = this.timeoutMs > 0
        ? this.ports.after(this.timeoutMs, () => {
          if (this.proposals.get(at.index) === p) this.settle(at.index, new ProposalTimeoutError(this.groupId, at.index));
        })
        : undefined;
      // The result's type is the caller's claim about its application (R is what apply returns).
      const p: PendingProposal = { term: at.term, resolve: resolve as (c: Applied<unknown>) => void, reject, timer };
      this.proposals.set(at.index, p);
    });
  }

  /** Entries applied here, with the application's results (same order). */
  applied(entries: readonly Entry[], results: readonly unknown[]): void {
    if (this.proposals.size === 0) return;
    for (const [i, e] of entries.entries()) {
      const p = this.proposals.get(e.index);
      if (!p) continue;
      if (p.term === e.term) this.settle(e.index, { index: e.index, term: e.term, result: results[i] });
      else this.settle(e.index, new ProposalDroppedError(`index ${e.index} committed with term ${e.term}, not ${p.term}`));
    }
  }

  /** A new read: its context for core.readIndex and the promise of its read point. */
  read(): { promise: Promise<number>; ctx: Uint8Array } {
    const id = this.nextReadId++;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setFloat64(0, id);
    const promise = new Promise<number>((resolve, reject) => {
      const timer = this.ports.after(this.timeoutMs > 0 ? this.timeoutMs : 30_000, () => {
        this.reads.delete(id);
        reject(new ProposalTimeoutError(this.groupId, -1));
      });
      this.reads.set(id, { index: -1, resolve, reject, timer });
    });
    return { promise, ctx };
  }

  /** The read with context `ctx` failed before reaching the leader. */
  failRead(ctx: Uint8Array, err: Error): void {
    const id = new DataView(ctx.buffer, ctx.byteOffset, 8).getFloat64(0);
    const r = this.reads.get(id);
    if (r === undefined) return;
    this.reads.delete(id);
    r.timer.cancel();
    r.reject(err);
  }

  /** Read points answered by the leader; a read is served once this replica applied that far. */
  readStates(states: readonly { index: number; requestCtx: Uint8Array }[], applied: number): void {
    for (const rs of states) {
      if (rs.requestCtx.length < 8) continue;
      const r = this.reads.get(new DataView(rs.requestCtx.buffer, rs.requestCtx.byteOffset, 8).getFloat64(0));
      if (r !== undefined) r.index = rs.index;
    }
    for (const [id, r] of this.reads) {
      if (r.index < 0 || r.index > applied) continue;
      this.reads.delete(id);
      r.timer.cancel();
      r.resolve(r.index);
    }
  }

  stop(): void {
    for (const r of this.reads.values()) {
      r.timer.cancel();
      r.reject(new ProposalDroppedError('raft group stopped'));
    }
    this.reads.clear();
    for (const index of [...this.proposals.keys()]) this.settle(index, new ProposalDroppedError('raft group stopped'));
  }

  private settle(index: number, outcome: Applied<unknown> | Error): void {
    const p = this.proposals.get(index);
    if (!p) return;
    this.proposals.delete(index);
    p.timer?.cancel();
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
