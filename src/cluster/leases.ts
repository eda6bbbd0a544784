// The metadata leader's side of frontend session leases (etcd's lessor, in miniature). Opening and
// ending a lease are metadata log entries (src/meta/sessions.ts); a renewal only moves a deadline
// this leader keeps in memory. A replica that becomes leader starts every open lease afresh with
// its full TTL, so a leader change never expires a live frontend (at worst it lets a dead one live
// one TTL longer). A lease whose deadline passes is ended by proposing `session.end`; every owner
// then cancels that session's consumers in the partitions it leads (src/node/compose-owner.ts).
import type { MetaMachine } from '../meta/machine.js';
import type { MetaCommand } from '../meta/types.js';

export interface LeaseKeeperOptions {
  /** The applied metadata state of this replica. */
  readonly machine: () => MetaMachine;
  /** Proposes a command on the metadata group (resolves once applied here). */
  readonly propose: (cmd: MetaCommand) => Promise<unknown>;
  readonly now?: () => number;
  readonly onExpired?: (lease: number) => void;
}

export type KeepAliveAnswer =
  | { readonly kind: 'open'; readonly ttlMs: number }
  | { readonly kind: 'ended' }
  /** Not applied here yet (a lease opened a moment ago on another leader): ask again. */
  | { readonly kind: 'unknown' };

export class LeaseKeeper {
  private readonly deadlines = new Map<number, number>();
  /** Leases whose end is being proposed. */
  private readonly ending = new Set<number>();
  private leading = false;
  private readonly now: () => number;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** This replica's leadership of the metadata group changed. */
  setLeader(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.deadlines.clear();
    this.ending.clear();
    // Every open lease starts afresh: its frontend's last renewal went to the old leader.
    if (leading) for (const s of this.opts.machine().sessions.list()) this.deadlines.set(s.lease, this.now() + s.ttlMs);
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** For operators: ms until `lease` expires unless renewed; undefined when not leading or no deadline is kept for it yet. */
  expiresInMs(lease: number): number | undefined {
    const deadline = this.leading ? this.deadlines.get(lease) : undefined;
    return deadline === undefined ? undefined : deadline - this.now();
  }

  /** A renewal from the lease's frontend (only the leader answers them). */
  keepAlive(lease: number): KeepAliveAnswer {
    const sessions = this.opts.machine().sessions;
    const state = sessions.state(lease);
    if (state !== 'open' || this.ending.has(lease)) return state === 'unknown' ? { kind: 'unknown' } : { kind: 'ended' };
    const ttlMs = sessions.get(lease)!.ttlMs;
    this.deadlines.set(lease, this.now() + ttlMs);
    return { kind: 'open', ttlMs };
  }

  /** Ends the leases whose deadline passed; run periodically on every replica (it acts only when leading). */
  check(): void {
    if (!this.leading) return;
    const now = this.now();
    for (const s of this.opts.machine().sessions.list()) {
      // Opened since this replica became leader (applied from the log): its TTL starts now.
      const deadline = this.deadlines.get(s.lease) ?? this.set(s.lease, now + s.ttlMs);
      if (deadline > now || this.ending.has(s.lease)) continue;
      this.ending.add(s.lease);
      this.opts.propose({ type: 'session.end', lease: s.lease }).then(() => {
        this.deadlines.delete(s.lease);
        this.opts.onExpired?.(s.lease);
      }, () => {
        // Not committed (leadership lost, or no quorum): the next check tries again, if still leading.
      }).finally(() => this.ending.delete(s.lease));
    }
  }

  private set(lease: number, deadline: number): number {
    this.deadlines.set(lease, deadline);
    return deadline;
  }
}
