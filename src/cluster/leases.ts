// The metadata leader's side of frontend session leases (etcd's lessor, in miniature). Opening and
// ending a lease are metadata log entries (src/meta/sessions.ts); a renewal only moves a deadline
// this leader keeps in memory. A replica that becomes leader — of a new term, even one that follows
// its own previous term unseen — starts every open lease afresh with its full TTL, so a leader
// change never expires a live frontend (at worst it lets a dead one live one TTL longer). A leader
// whose checks stalled (its process paused or starved of CPU: renewals waited unread in its
// sockets) moves every deadline on by the stall before it judges, so it does not end the leases of
// live frontends for its own pause. A lease whose deadline passes is ended by proposing
// `session.end`; every owner then cancels that session's consumers in the partitions it leads
// (src/node/compose-owner.ts).
import type { MetaMachine } from '../meta/machine.js';
import type { MetaCommand } from '../meta/types.js';

export interface LeaseKeeperOptions {
  /** The applied metadata state of this replica. */
  readonly machine: () => MetaMachine;
  /** Proposes a command on the metadata group (resolves once applied here). */
  readonly propose: (cmd: MetaCommand) => Promise<unknown>;
  /** The term this replica leads the metadata group in, or undefined; read before every use. */
  readonly leadingTerm: () => number | undefined;
  readonly now?: () => number;
  readonly onExpired?: (lease: number) => void;
  /**
   * How far apart check() calls are meant to be; a gap beyond 4x this is taken for a pause of this
   * replica and added to every deadline. Undefined: no such compensation (tests that jump the clock).
   */
  readonly checkEveryMs?: number;
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
  /** The term this replica leads, or undefined. */
  private term: number | undefined;
  private lastCheckAt: number | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Follows this replica's leadership: a new term (or none) starts the deadlines over. */
  private follow(): void {
    const term = this.opts.leadingTerm();
    if (term === this.term) return;
    this.term = term;
    this.deadlines.clear();
    this.ending.clear();
    this.lastCheckAt = undefined;
    // Every open lease starts afresh: its frontend's last renewals may have gone to another leader.
    if (term !== undefined) for (const s of this.opts.machine().sessions.list()) this.deadlines.set(s.lease, this.now() + s.ttlMs);
  }

  get isLeading(): boolean {
    this.follow();
    return this.term !== undefined;
  }

  /** For operators: ms until `lease` expires unless renewed; undefined when not leading or no deadline is kept for it yet. */
  expiresInMs(lease: number): number | undefined {
    const deadline = this.isLeading ? this.deadlines.get(lease) : undefined;
    return deadline === undefined ? undefined : deadline - this.now();
  }

  /** A renewal from the lease's frontend (only the leader answers them). */
  keepAlive(lease: number): KeepAliveAnswer {
    this.follow();
    const sessions = this.opts.machine().sessions;
    const state = sessions.state(lease);
    if (state !== 'open' || this.ending.has(lease)) return state === 'unknown' ? { kind: 'unknown' } : { kind: 'ended' };
    const ttlMs = sessions.get(lease)!.ttlMs;
    this.deadlines.set(lease, this.now() + ttlMs);
    return { kind: 'open', ttlMs };
  }

  /** Ends the leases whose deadline passed; run periodically on every replica (it acts only when leading). */
  check(): void {
    if (!this.isLeading) return;
    const now = this.now();
    const every = this.opts.checkEveryMs;
    if (every !== undefined && this.lastCheckAt !== undefined && now - this.lastCheckAt > 4 * every) {
      const stall = now - this.lastCheckAt - every;
      for (const [lease, deadline] of this.deadlines) this.deadlines.set(lease, deadline + stall);
    }
    this.lastCheckAt = now;
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
