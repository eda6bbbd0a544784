// Frontend session leases in the metadata state (issue 8, docs/cluster.md "Sessions"). A cluster
// frontend opens a lease before it serves AMQP; consumers, unacked deliveries and exclusive queues
// belong to it. Opening and ending are log entries; renewals are not (the metadata leader keeps the
// deadlines in memory: src/cluster/leases.ts).
//
// Lease numbers come from a counter in the replicated state, so they are never reused and a replica
// can tell an ended lease from one it has not heard of yet: a number below `next` that is not open
// has ended, for good. That is what lets an owner cancel a session's consumers on its own replica's
// word without ever cancelling a live one. The session string a frontend uses on the owners names
// its node id and its lease number (sessionOfLease).
import { AmqpError, ReplyCode } from '../amqp/errors.js';

export interface SessionRecord {
  readonly lease: number;
  /** The frontend's name, for operators; not an identity. */
  readonly frontend: string;
  readonly ttlMs: number;
  /** The frontend's management API (http://host:port), where the others fetch its connections. */
  readonly http?: string;
}

export interface SessionsSnapshot {
  readonly sessions: readonly SessionRecord[];
  /** The number the next opened lease gets. */
  readonly nextLease: number;
}

export type LeaseState = 'open' | 'ended' | 'unknown';

/** Bounds on a requested TTL, so one frontend cannot pin its consumers for ever nor expire at once. */
export const MIN_TTL_MS = 1_000;
export const MAX_TTL_MS = 300_000;
export const DEFAULT_TTL_MS = 10_000;

export class Sessions {
  private readonly open = new Map<number, SessionRecord>();
  private next = 1;

  /** Opens a lease; its number is the result. */
  openLease(frontend: string, ttlMs: number, http?: string): number {
    const ttl = ttlMs === 0 ? DEFAULT_TTL_MS : ttlMs;
    if (!Number.isInteger(ttl) || ttl < MIN_TTL_MS || ttl > MAX_TTL_MS) {
      throw new AmqpError(ReplyCode.PreconditionFailed, `session TTL ${ttlMs} ms outside ${MIN_TTL_MS}..${MAX_TTL_MS}`);
    }
    const lease = this.next++;
    this.open.set(lease, { lease, frontend, ttlMs: ttl, ...(http ? { http } : {}) });
    return lease;
  }

  /** Ends a lease (expired, or closed by its frontend); ending one already ended changes nothing. */
  endLease(lease: number): void {
    this.open.delete(lease);
  }

  state(lease: number): LeaseState {
    if (this.open.has(lease)) return 'open';
    return lease >= 1 && lease < this.next ? 'ended' : 'unknown';
  }

  get(lease: number): SessionRecord | undefined {
    return this.open.get(lease);
  }

  list(): SessionRecord[] {
    return [...this.open.values()];
  }

  snapshot(): SessionsSnapshot {
    return { sessions: this.list(), nextLease: this.next };
  }

  restore(s: SessionsSnapshot | undefined): void {
    this.open.clear();
    for (const r of s?.sessions ?? []) this.open.set(r.lease, r);
    this.next = s?.nextLease ?? 1;
  }
}

/**
 * The session string the frontend `nodeId` holding `lease` uses towards the owners:
 * `fe-<node id>-<lease>` (operators read the frontend from it, as `warren ctl status` does).
 */
export function sessionOfLease(nodeId: number, lease: number): string {
  return `fe-${nodeId}-${lease}`;
}

/** The lease a session string names; undefined for sessions that hold none (an owner's own). */
export function leaseOfSession(session: string): number | undefined {
  const m = /^fe-[0-9]+-([1-9][0-9]*)$/.exec(session);
  return m === null ? undefined : Number(m[1]);
}

/** The name a cluster frontend opens its lease under (SessionRecord.frontend): `frontend-<node id>`. */
export function frontendName(nodeId: number): string {
  return `frontend-${nodeId}`;
}

/**
 * A node's name in the management API, as RabbitMQ's are rabbit@<host>: `warren@frontend-<id>`,
 * `warren@owner-<id>`, and `warren@localhost` for the embedded broker.
 */
export function managementNodeName(role: 'all' | 'owner' | 'frontend', nodeId: number): string {
  return role === 'frontend' ? `warren@${frontendName(nodeId)}` : role === 'owner' ? `warren@owner-${nodeId}` : 'warren@localhost';
}

/** The node id in a lease's frontend name; undefined for a name of another form. */
export function nodeOfFrontendName(name: string): number | undefined {
  const m = /^frontend-([1-9][0-9]*)$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}
