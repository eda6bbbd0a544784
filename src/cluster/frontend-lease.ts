// A cluster frontend's session lease, held from start to stop (docs/cluster.md "Sessions"). The
// frontend serves AMQP only while it holds it: consumers, unacked deliveries and exclusive queues
// belong to its session, and once the lease ends the owners cancel and return them. So the frontend
// renews it every TTL/3 at the metadata leader, and treats it as lost — before the leader can end
// it — when no renewal has succeeded within one TTL of being SENT (the leader's deadline runs from
// when it received that renewal, never earlier), or when the leader answers that it has ended.
// Losing it is fatal for the frontend's AMQP service (onLost); a new process opens a new lease.
//
// Every KeepAlive also says how far this frontend's metadata cache has applied, and one is sent
// whenever the cache applies further: the metadata leader answers a change only once every open
// lease's cache has it (src/cluster/cache-acks.ts), so what another frontend answered for is routed
// here too.
import type { Logger } from '../log.js';
import { frontendName, sessionOfLease } from '../meta/sessions.js';
import type { RemoteMetaBackend } from './meta-remote.js';

export interface FrontendLeaseOptions {
  /** The frontend's node id (its name in the metadata state is `frontend-<id>`). */
  readonly nodeId: number;
  /** 0: the metadata group's default (10 s). */
  readonly ttlMs?: number;
  /** This frontend's management API as the other frontends reach it (they list its connections); '' if none. */
  readonly httpUrl?: string;
  /** The lease ended or could not be renewed in time: the frontend must stop serving its clients. */
  readonly onLost: (reason: string) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

/** One report's deadline (its retries at the leader included), and the pause before the next try. */
const REPORT_TIMEOUT_MS = 1_000;
const REPORT_RETRY_MS = 200;

export class FrontendLease {
  private timer: NodeJS.Timeout | undefined;
  /** When the last renewal that succeeded was sent. */
  private renewedAt: number;
  private stopped = false;
  private renewing = false;
  /** A report of the cache's applied index is on its way. */
  private reporting = false;
  /** The highest applied index the leader has acknowledged hearing. */
  private reported = 0;

  private constructor(
    private readonly meta: RemoteMetaBackend,
    readonly lease: number,
    readonly ttlMs: number,
    private readonly opts: FrontendLeaseOptions,
    sentAt: number,
  ) {
    this.renewedAt = sentAt;
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
    meta.cache.onApplied(() => this.report());
    this.report();
  }

  /** Opens the lease (waiting for a metadata leader up to the meta client's own timeout). */
  static async open(meta: RemoteMetaBackend, opts: FrontendLeaseOptions): Promise<FrontendLease> {
    const now = opts.now ?? Date.now;
    const sentAt = now();
    const { lease, ttlMs } = await meta.leader.openSession(frontendName(opts.nodeId), opts.ttlMs ?? 0, opts.httpUrl ?? '');
    return new FrontendLease(meta, lease, ttlMs, opts, sentAt);
  }

  /** The session string of owner.proto: what the owners know this frontend's work by. */
  get session(): string {
    return sessionOfLease(this.opts.nodeId, this.lease);
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.renewing) return;
    this.renewing = true;
    const now = this.opts.now ?? Date.now;
    const sentAt = now();
    try {
      const left = this.renewedAt + this.ttlMs - sentAt;
      if (left <= 0) return this.lost(`not renewed within its ${this.ttlMs} ms TTL`);
      const answer = await this.meta.leader.keepAlive(this.lease, left);
      if (this.stopped) return;
      if (answer === 'expired') return this.lost('the metadata leader ended it');
      this.renewedAt = sentAt;
    } catch (err) {
      // No leader reachable for now: keep trying until the TTL runs out.
      this.opts.log.warn({ err, lease: this.lease }, 'session lease renewal failed');
      if (!this.stopped && now() - this.renewedAt >= this.ttlMs) this.lost(`not renewed within its ${this.ttlMs} ms TTL`);
    } finally {
      this.renewing = false;
    }
  }

  /** Tells the leader how far the cache has applied, one report at a time, the latest index each. */
  private report(): void {
    const index = this.meta.appliedIndex;
    if (this.stopped || this.reporting || index <= this.reported) return;
    this.reporting = true;
    this.meta.leader.keepAlive(this.lease, REPORT_TIMEOUT_MS).then((answer) => {
      if (answer === 'expired') return this.lost('the metadata leader ended it');
      this.reported = Math.max(this.reported, index);
      this.reporting = false;
      this.report();
    }, () => {
      // No leader for now: try again shortly (renewals carry the index as well).
      this.reporting = false;
      setTimeout(() => this.report(), REPORT_RETRY_MS).unref();
    });
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.opts.log.error({ lease: this.lease, reason }, 'session lease lost');
    this.opts.onLost(reason);
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Ends the lease at once (a clean shutdown): the owners return what its consumers held without waiting for the TTL. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.stopped) return;
    this.stop();
    await this.meta.leader.closeSession(this.lease, timeoutMs).catch((err: unknown) => {
      this.opts.log.warn({ err, lease: this.lease }, 'closing the session lease failed; it will expire');
    });
  }
}
