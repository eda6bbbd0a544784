// The sending side towards one peer: a bounded queue, per-turn batching and a reconnecting stream.
//
// Contract: send() never blocks and never throws. Messages queue until the next event-loop turn
// (setImmediate), then every queued envelope — many groups' appends and heartbeats alike — is
// written as one RaftBatch (split only at maxBatchBytes), its heartbeats coalesced into the
// batch's compact lists (coalesce.ts). One group's messages to this peer leave in the order they
// were sent, and the receiver hands them over in that order. When the queue is over its count or
// byte bound, new messages are DROPPED and counted: Raft tolerates loss (retransmission by the
// leader, heartbeats, elections), and unbounded buffering towards a dead peer would not.
import type { BidiStream } from '../../rpc/bidi.js';
import type { BidiClient } from '../../rpc/server.js';
import type { Batch, Envelope } from './codec.js';
import { estimateBytes } from './codec.js';
import { coalesce, coalescedCount } from './coalesce.js';

export interface PeerLimits {
  readonly maxQueueMessages: number;
  readonly maxQueueBytes: number;
  readonly maxBatchBytes: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
}

export interface PeerStats {
  sentMessages: number;
  sentBatches: number;
  /** Of sentMessages, the Heartbeat / HeartbeatResp messages sent in a batch's compact lists. */
  coalescedHeartbeats: number;
  droppedMessages: number;
  /** Streams opened (the first connect included). */
  connects: number;
  queuedMessages: number;
  queuedBytes: number;
}

interface Queued {
  readonly env: Envelope;
  readonly bytes: number;
}

export class Peer {
  readonly stats: PeerStats = {
    sentMessages: 0, sentBatches: 0, coalescedHeartbeats: 0, droppedMessages: 0, connects: 0, queuedMessages: 0, queuedBytes: 0,
  };
  private queue: Queued[] = [];
  private stream: BidiStream<Batch, Batch> | undefined;
  /** True once the peer's hello arrived on the current stream. */
  private established = false;
  private writable = true;
  private flushScheduled = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private closed = false;

  constructor(
    private readonly selfId: number,
    readonly peerId: number,
    private readonly client: BidiClient<Batch, Batch>,
    private readonly limits: PeerLimits,
  ) {
    this.backoffMs = limits.backoffMinMs;
    this.connect();
  }

  get connected(): boolean {
    return this.established;
  }

  send(env: Envelope): void {
    const bytes = estimateBytes(env.message);
    if (this.closed || this.stats.queuedMessages >= this.limits.maxQueueMessages
      || this.stats.queuedBytes + bytes > this.limits.maxQueueBytes) {
      this.stats.droppedMessages++;
      return;
    }
    this.queue.push({ env, bytes });
    this.stats.queuedMessages++;
    this.stats.queuedBytes += bytes;
    this.scheduleFlush();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.stream?.end();
    this.stream?.cancel();
    this.stream = undefined;
    this.client.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    // Only on an established stream: before the hello, messages stay queued (bounded).
    while (this.stream && this.established && this.writable && this.queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= this.limits.maxBatchBytes)) {
        bytes += this.queue[n]!.bytes;
        n++;
      }
      const taken = this.queue.splice(0, n);
      this.stats.queuedMessages -= n;
      this.stats.queuedBytes -= bytes;
      this.stats.sentMessages += n;
      this.stats.sentBatches++;
      const batch = coalesce(this.selfId, this.peerId, taken.map((q) => q.env));
      this.stats.coalescedHeartbeats += coalescedCount(batch);
      this.writable = this.stream.write(batch);
    }
  }

  private connect(): void {
    if (this.closed) return;
    this.stats.connects++;
    const stream = this.client.open();
    this.stream = stream;
    this.writable = true;
    this.established = false;
    stream.onData(() => {
      // The receiver's hello: the stream is really up, so the back-off starts over.
      if (this.established) return;
      this.established = true;
      this.backoffMs = this.limits.backoffMinMs;
      this.flush();
    });
    stream.onDrain(() => {
      this.writable = true;
      this.flush();
    });
    stream.onClose(() => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.established = false;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.limits.backoffMaxMs);
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    this.reconnectTimer.unref();
  }
}
