// What the leader knows about one follower's log (etcd's tracker.Progress).
//   Probe:     one append at a time until the follower's match index is found (after a reject).
//   Replicate: optimistic pipelining: next runs ahead of match, bounded by the inflight window.
//   Snapshot:  a snapshot is being sent; no appends until it is acknowledged or given up.
import { Inflights } from './inflights.js';

export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  match = 0;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Ticks spent in Snapshot state; the leader gives up after an election timeout. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /** In Probe state: an append is outstanding, wait for its answer (or a heartbeat response). */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    public next: number,
    maxInflightMsgs: number,
    public isLearner: boolean,
  ) {
    this.inflights = new Inflights(maxInflightMsgs);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // The snapshot may have been applied: resume after it rather than re-probing below it.
      const ps = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, ps + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an append sent with entries ending at lastIndex (or none). */
  sentEntries(lastIndex: number | undefined): void {
    if (this.state === ProgressState.Replicate) {
      if (lastIndex !== undefined) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  /** An acknowledgment up to n; returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append after `rejected`; matchHint is the follower's guess of where the
   * logs agree. Returns false for a stale (reordered or duplicated) rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
