// Calls to the metadata leader (MetaLeaderClient), and a frontend's MetaBackend in a cluster
// (RemoteMetaBackend): reads come from a local cache of the metadata state kept current by
// Meta.Watch (meta-watcher.ts, meta-cache.ts); changes are Meta.Propose calls to the metadata
// leader (docs/cluster-contracts.md "Meta service"). An owner has a replica of the metadata group
// instead of a cache, and uses the leader client alone with that replica.
//
// apply(cmd) sends encodeMeta(cmd) to the leader it last heard of (or the next owner), follows
// NotLeader hints, and backs off and tries the next owner when there is no hint, the owner is
// unavailable, or the call failed below the application — all within one deadline. The answer is
// returned only once the caller's copy (cache or replica) has applied the entry's index, so the
// next method on the channel (a publish after queue.bind) routes with the change. A refusal is the
// machine's AmqpError, rebuilt.
//
// Resending after an unknown outcome is safe by the commands' own semantics (a declare answers
// created = false, a resent delete or unbind finds nothing: its 404 then means "done").
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { OwnerAddress } from '../config.js';
import { decodeMeta, encodeMeta } from '../meta/codec.js';
import type { MetaMachine } from '../meta/machine.js';
import type { MetaCommand, MetaResult } from '../meta/types.js';
import type { MetaBackend } from '../node/meta-port.js';
import { u64 } from '../partition/codec.js';
import { META } from '../rpc/contracts.js';
import { RpcChannel, RpcError } from '../rpc/server.js';
import { amqpFromWire, type WireError } from './wire.js';
import { MetaCache } from './meta-cache.js';
import { DEFAULT_WATCHER_OPTIONS, MetaWatcher, type WatcherOptions } from './meta-watcher.js';

export interface MetaLeaderOptions {
  readonly owners: readonly OwnerAddress[];
  /** One Propose call. */
  readonly rpcTimeoutMs?: number;
  /** One apply(), retries and the wait for the local copy included. */
  readonly applyTimeoutMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
}

/** The caller's copy of the metadata state: how far it has applied, and a wait for an index. */
export interface AppliedCopy {
  readonly appliedIndex: number;
  waitFor(index: number): Promise<void>;
}

export interface RemoteMetaOptions extends MetaLeaderOptions {
  readonly watcher?: Partial<WatcherOptions>;
  /** Which owner (index into `owners`) to watch first; frontends spread their watches with it. */
  readonly watchStart?: number;
  /** A watch stream failed to apply (a bug): the cache starts again from a snapshot. */
  readonly onWatchError?: (err: unknown, owner: OwnerAddress) => void;
}

export interface RemoteMetaStats {
  proposals: number;
  /** NotLeader answers followed. */
  redirects: number;
  /** Attempts retried after a failure (no hint, unavailable, RpcError). */
  retries: number;
}

/** Commands whose resend after an unknown outcome may find the first attempt done, as 404. */
const DONE_ON_404 = new Set<MetaCommand['type']>(['exchange.delete', 'queue.delete', 'binding.remove']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Proposals, read points and session leases at the metadata leader, for a caller with its own applied copy. */
export class MetaLeaderClient {
  readonly stats: RemoteMetaStats = { proposals: 0, redirects: 0, retries: 0 };
  private readonly channels = new Map<string, RpcChannel>();
  private readonly owners: readonly OwnerAddress[];
  private readonly rpcTimeoutMs: number;
  private readonly applyTimeoutMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  /** The owner that last answered a Propose as leader. */
  private leader: OwnerAddress | undefined;
  /** Where the next Propose without a known leader starts. */
  private next = 0;
  private closed = false;

  constructor(opts: MetaLeaderOptions, private readonly copy: AppliedCopy) {
    if (opts.owners.length === 0) throw new Error('meta: a frontend needs at least one owner');
    this.owners = opts.owners;
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 5_000;
    this.applyTimeoutMs = opts.applyTimeoutMs ?? 30_000;
    this.backoffMinMs = opts.backoffMinMs ?? 50;
    this.backoffMaxMs = opts.backoffMaxMs ?? 1_000;
  }

  async apply(cmd: MetaCommand): Promise<MetaResult> {
    if (this.closed) throw new Error('meta: backend closed');
    this.stats.proposals++;
    const command = encodeMeta(cmd);
    const deadline = Date.now() + this.applyTimeoutMs;
    const { res, uncertain } = await this.atLeader((ch, ms) => ch.unary(META.propose, { command }, ms), deadline);
    const index = u64(res.index);
    await this.waitApplied(index, deadline);
    const error = res.error;
    if (error?.amqp) {
      const refused = amqpFromWire(error.amqp);
      if (uncertain && refused.replyCode === ReplyCode.NotFound && DONE_ON_404.has(cmd.type)) return {};
      throw refused;
    }
    return decodeMeta<MetaResult>(res.result ?? new Uint8Array(0));
  }

  /**
   * Waits until the local copy has applied every change committed before the call (the leader's
   * read point): a lookup that failed on the copy can be tried again and trusted.
   */
  async sync(): Promise<void> {
    if (this.closed) throw new Error('meta: backend closed');
    const deadline = Date.now() + this.applyTimeoutMs;
    const { res } = await this.atLeader((ch, ms) => ch.unary(META.getPlacement, {}, ms), deadline);
    await this.waitApplied(u64(res.index), deadline);
  }

  /** Opens a session lease for this frontend (retried at the leader until `timeoutMs`). */
  async openSession(frontend: string, ttlMs: number, httpUrl = '', timeoutMs = this.applyTimeoutMs): Promise<{ lease: number; ttlMs: number }> {
    const { res } = await this.atLeader((ch, ms) => ch.unary(META.openSession, { frontend, ttlMs, httpUrl }, ms), Date.now() + timeoutMs);
    if (res.error?.amqp) throw amqpFromWire(res.error.amqp);
    return { lease: u64(res.leaseId), ttlMs: res.ttlMs ?? ttlMs };
  }

  /**
   * Renews a lease at the leader, telling it how far this cache has applied: its TTL from now, or
   * 'expired' when it has ended.
   */
  async keepAlive(lease: number, timeoutMs: number): Promise<{ ttlMs: number } | 'expired'> {
    const { res } = await this.atLeader(
      (ch, ms) => ch.unary(META.keepAlive, { leaseId: lease, appliedIndex: this.copy.appliedIndex }, ms), Date.now() + timeoutMs,
    );
    return res.expired === true ? 'expired' : { ttlMs: res.ttlMs ?? 0 };
  }

  /** Ends a lease at once (a frontend shutting down), rather than letting it expire. */
  async closeSession(lease: number, timeoutMs: number): Promise<void> {
    await this.atLeader((ch, ms) => ch.unary(META.closeSession, { leaseId: lease }, ms), Date.now() + timeoutMs);
  }

  /**
   * Sends a request to the metadata leader: follows NotLeader hints, backs off and rotates on no
   * hint, Unavailable or a transport failure, until the deadline. `uncertain`: an earlier attempt
   * may have taken effect.
   */
  private async atLeader<Res extends { error?: WireError | null }>(
    send: (channel: RpcChannel, timeoutMs: number) => Promise<Res>, deadline: number,
  ): Promise<{ res: Res; uncertain: boolean }> {
    let target = this.leader ?? this.owners[this.next % this.owners.length]!;
    let backoff = this.backoffMinMs;
    let uncertain = false;
    /** Redirects followed since the last back-off (hints can chase each other during an election). */
    let hops = 0;
    const retry = async (rotate: boolean): Promise<void> => {
      this.stats.retries++;
      if (rotate) {
        this.leader = undefined;
        this.next = (this.owners.indexOf(target) + 1) % this.owners.length;
        target = this.owners[this.next]!;
      }
      hops = 0;
      await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
      backoff = Math.min(backoff * 2, this.backoffMaxMs);
    };
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) throw this.timedOut();
      let res: Res;
      try {
        res = await send(this.channel(target.address), Math.min(this.rpcTimeoutMs, remaining));
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        uncertain = true;
        await retry(true);
        continue;
      }
      const error = res.error;
      if (error?.notLeader) {
        this.stats.redirects++;
        const hinted = this.hinted(error.notLeader.leaderId ?? '', error.notLeader.leaderAddress ?? '');
        if (hinted !== undefined && hinted.address !== target.address && hops < this.owners.length) {
          hops++;
          target = hinted;
          continue;
        }
        await retry(hinted === undefined);
        continue;
      }
      if (error?.unavailable) {
        uncertain = true;
        await retry(false);
        continue;
      }
      this.leader = target;
      return { res, uncertain };
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }

  private async waitApplied(index: number, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timedOut()), Math.max(0, deadline - Date.now()));
    });
    try {
      await Promise.race([this.copy.waitFor(index), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hinted leader: the configured address of that owner id, else the address the hint gave. */
  private hinted(id: string, address: string): OwnerAddress | undefined {
    const known = this.owners.find((o) => String(o.id) === id);
    if (known !== undefined) return known;
    return address === '' ? undefined : { id: Number(id), address };
  }

  private timedOut(): AmqpError {
    // Hard (541): the connection closes, the client reconnects and retries, as after a broker restart.
    return new AmqpError(ReplyCode.InternalError, `metadata change not confirmed within ${this.applyTimeoutMs} ms (no metadata leader reachable)`);
  }

  /** The gRPC channel to an owner, shared with whatever else talks to it (the cache's Watch). */
  channel(address: string): RpcChannel {
    let c = this.channels.get(address);
    if (c === undefined) {
      c = new RpcChannel(address);
      this.channels.set(address, c);
    }
    return c;
  }
}

/** A frontend's metadata: a cache fed by Meta.Watch for reads, the leader client for changes. */
export class RemoteMetaBackend implements MetaBackend {
  readonly cache = new MetaCache();
  readonly watcher: MetaWatcher;
  readonly leader: MetaLeaderClient;

  constructor(opts: RemoteMetaOptions) {
    const cache = this.cache;
    this.leader = new MetaLeaderClient(opts, { get appliedIndex() { return cache.applied; }, waitFor: (i) => cache.waitFor(i) });
    this.watcher = new MetaWatcher(
      opts.owners, this.cache, (a) => this.leader.channel(a), { ...DEFAULT_WATCHER_OPTIONS, ...opts.watcher },
      opts.watchStart ?? 0, opts.onWatchError,
    );
  }

  get machine(): MetaMachine {
    return this.cache.machine;
  }

  get appliedIndex(): number {
    return this.cache.applied;
  }

  get stats(): RemoteMetaStats {
    return this.leader.stats;
  }

  /** Resolves once the cache has caught up with an owner for the first time. */
  ready(): Promise<void> {
    return new Promise((resolve) => this.cache.onReady(resolve));
  }

  apply(cmd: MetaCommand): Promise<MetaResult> {
    return this.leader.apply(cmd);
  }

  /** Whether an entry applied to the cache created the exchange a moment ago (its bindings may still be on their way). */
  recentlyCreated(vhost: string, exchange: string): boolean {
    return this.cache.recentlyCreated(vhost, exchange);
  }

  sync(): Promise<void> {
    return this.leader.sync();
  }

  close(): void {
    this.watcher.close();
    this.cache.releaseWaiters();
    this.leader.close();
  }
}
