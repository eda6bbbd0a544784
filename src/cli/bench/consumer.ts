// One consumer: its own connection and channel (through a BenchDriver), one basic.consume on the bench
// queue. Counts deliveries, records end-to-end latency from the send time in the body, and acks.
//
// Ack policy (documented in docs/bench.md): with --autoack the broker needs no acks. Otherwise
// every delivery is acked individually (basic.ack multiple=false) unless --multi-ack-every N > 1,
// in which case every N-th delivery is acked with multiple=true, covering the N-1 before it.
// Leftovers (< N) are acked when the consumer closes.
import type { BenchOptions } from './options.js';
import type { BenchStats } from './stats.js';
import type { BenchDriver, ConsumerPort } from './driver.js';
import { nowEpochMs, readSendTime } from './clock.js';

/** Producer and consumer clocks may disagree by this much (different hosts); clamp to 0. */
const MAX_CLOCK_SKEW_MS = 1000;
const MAX_PLAUSIBLE_LATENCY_MS = 24 * 3600 * 1000;

export class Consumer {
  private unacked = 0;
  /** Delivery tag of the newest delivery not yet covered by an ack; 0 when none. */
  private lastUnackedTag = 0;
  private port: ConsumerPort | undefined;

  private constructor(private readonly opts: BenchOptions, private readonly stats: BenchStats) {}

  static async open(driver: BenchDriver, opts: BenchOptions, queue: string, stats: BenchStats, index: number): Promise<Consumer> {
    const c = new Consumer(opts, stats);
    c.port = await driver.openConsumer(opts.url, `warren-bench-consumer-${index}`,
      { queue, prefetch: opts.prefetch, autoAck: opts.autoAck }, c.onDelivery,
      { onError: (context, err) => stats.recordError(context, err) });
    return c;
  }

  /** Acks what is still unacked, cancels the consumer and closes the connection. */
  async close(): Promise<void> {
    try {
      if (this.lastUnackedTag !== 0) this.port?.ack(this.lastUnackedTag, true);
    } catch { /* channel already closed: the error was recorded */ }
    this.lastUnackedTag = 0;
    try { await this.port?.close(); } catch { /* already closed */ }
  }

  private readonly onDelivery = (deliveryTag: number, body: Buffer, port: ConsumerPort): void => {
    this.stats.consumed += 1;
    const latencyMs = nowEpochMs() - readSendTime(body);
    // Messages not sent by a bench producer (a pre-filled --queue) carry no plausible timestamp.
    if (latencyMs > -MAX_CLOCK_SKEW_MS && latencyMs < MAX_PLAUSIBLE_LATENCY_MS) {
      this.stats.recordLatencyUs(Math.max(0, latencyMs) * 1000);
    }
    if (this.opts.autoAck) return;
    if (this.opts.multiAckEvery <= 1) {
      port.ack(deliveryTag, false);
      return;
    }
    this.unacked += 1;
    if (this.unacked >= this.opts.multiAckEvery) {
      port.ack(deliveryTag, true);
      this.unacked = 0;
      this.lastUnackedTag = 0;
    } else {
      this.lastUnackedTag = deliveryTag;
    }
  };
}
