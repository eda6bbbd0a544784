// Keeps one Meta.Watch stream open to one of the owners and feeds a MetaCache from it. When the
// stream ends, breaks or goes quiet (no event, not even the owners' periodic Progress, for
// `idleMs`), it moves to the next owner after a back-off and resumes from the cache's applied
// index, so nothing is missed and nothing applied twice.
import type { OwnerAddress } from '../config.js';
import { META } from '../rpc/contracts.js';
import type { ClientStream, RpcChannel } from '../rpc/server.js';
import type { warren } from '../proto/meta.js';
import type { MetaCache } from './meta-cache.js';

export interface WatcherOptions {
  readonly idleMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Fault injection for tests: every event is applied this much later (in order), a cache that trails. */
  readonly applyDelayMs?: number;
}

export const DEFAULT_WATCHER_OPTIONS: WatcherOptions = { idleMs: 5_000, backoffMinMs: 50, backoffMaxMs: 2_000 };

export interface WatcherStats {
  /** Streams opened, and how many of those ended (for any reason). */
  connects: number;
  disconnects: number;
}

export class MetaWatcher {
  readonly stats: WatcherStats = { connects: 0, disconnects: 0 };
  private at: number;
  private stream: ClientStream<warren.v1.WatchEvent> | undefined;
  private current: OwnerAddress | undefined;
  private backoff: number;
  private retry: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly owners: readonly OwnerAddress[],
    private readonly cache: MetaCache,
    private readonly channel: (address: string) => RpcChannel,
    private readonly opts: WatcherOptions = DEFAULT_WATCHER_OPTIONS,
    /** Index into `owners` of the first owner to watch. */
    start = 0,
    private readonly onError: (err: unknown, owner: OwnerAddress) => void = () => {},
  ) {
    if (owners.length === 0) throw new Error('meta: no owners to watch');
    this.at = start % owners.length;
    this.backoff = opts.backoffMinMs;
    this.connect();
  }

  /** The owner whose stream is open now (undefined between streams). */
  get watching(): OwnerAddress | undefined {
    return this.current;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.idle);
    this.stream?.cancel();
    this.stream = undefined;
  }

  private connect(): void {
    if (this.closed) return;
    const owner = this.owners[this.at]!;
    this.cache.streamStarted();
    const stream = this.channel(owner.address).serverStream(META.watch, { fromIndex: this.cache.resumeFrom });
    this.stream = stream;
    this.current = owner;
    this.stats.connects++;
    let lastEvent = Date.now();
    this.idle = setInterval(() => {
      if (Date.now() - lastEvent > this.opts.idleMs) stream.cancel();
    }, Math.max(10, this.opts.idleMs / 4));
    const delay = this.opts.applyDelayMs ?? 0;
    stream.onData((ev) => {
      lastEvent = Date.now();
      if (delay > 0) setTimeout(() => handle(ev), delay);
      else handle(ev);
    });
    const handle = (ev: warren.v1.WatchEvent): void => {
      if (this.stream !== stream) return;
      try {
        // A Progress on a stream means it works: the next failure starts its back-off afresh.
        if (this.cache.onEvent(ev)) this.backoff = this.opts.backoffMinMs;
      } catch (err) {
        this.onError(err, owner);
        this.cache.invalidate();
        stream.cancel();
      }
    };
    stream.onClose(() => {
      if (this.stream !== stream) return;
      clearInterval(this.idle);
      this.stream = undefined;
      this.current = undefined;
      this.stats.disconnects++;
      if (this.closed) return;
      this.at = (this.at + 1) % this.owners.length;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.opts.backoffMaxMs);
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }
}
