// One producer: its own connection and channel (through a BenchDriver), publishing timestamped bodies
// to the default exchange as fast as backpressure, the confirm window and the rate cap allow.
//
// Flow control, in order of precedence each event-loop turn:
//   - publish() returned false (the client's write buffer is full) → wait for whenWritable();
//   - --confirm N and N messages unconfirmed → wait for a confirm to arrive;
//   - --rate R → publish only what is due since start, then sleep until the next one is;
//   - otherwise publish a bounded batch and yield (setImmediate) so timers, confirms and socket
//     I/O keep running.
import type { BenchOptions } from './options.js';
import type { BenchStats } from './stats.js';
import type { BenchDriver, PublisherPort } from './driver.js';
import { nowEpochMs, writeSendTime } from './clock.js';

/** Bytes handed to the client per event-loop turn before yielding. */
const BATCH_BYTES = 512 * 1024;
const MAX_BATCH_MESSAGES = 500;

export class Producer {
  private stopped = false;
  private waiting: 'none' | 'drain' | 'confirm' | 'timer' = 'none';
  private outstanding = 0;
  private sent = 0;
  private startMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private port: PublisherPort | undefined;
  private readonly body: Buffer;
  private readonly batch: number;
  private confirmWaiters: Array<() => void> = [];

  private constructor(private readonly opts: BenchOptions, private readonly queue: string, private readonly stats: BenchStats) {
    // Both clients copy the body into their frames inside publish(), so one buffer is reused and only
    // its timestamp is rewritten per message.
    this.body = Buffer.alloc(opts.sizeBytes, 0x61);
    this.batch = Math.max(1, Math.min(MAX_BATCH_MESSAGES, Math.floor(BATCH_BYTES / opts.sizeBytes)));
  }

  static async open(driver: BenchDriver, opts: BenchOptions, queue: string, stats: BenchStats, index: number): Promise<Producer> {
    const p = new Producer(opts, queue, stats);
    p.port = await driver.openPublisher(opts.url, `warren-bench-producer-${index}`, opts.confirm > 0, {
      onConfirm: p.onConfirm,
      onError: (context, err) => stats.recordError(context, err),
    });
    return p;
  }

  start(): void {
    this.startMs = performance.now();
    this.pump();
  }

  /** Stops publishing; already published messages may still be confirmed. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every published message is confirmed or nacked, or at the deadline. */
  async waitForConfirms(timeoutMs: number): Promise<void> {
    if (this.opts.confirm === 0 || this.outstanding === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.confirmWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  async close(): Promise<void> {
    this.stop();
    try { await this.port?.close(); } catch { /* already closed: the error was recorded */ }
  }

  private readonly pump = (): void => {
    this.waiting = 'none';
    if (this.stopped) return;
    let budget = this.batch;
    if (this.opts.ratePerSec > 0) {
      const due = Math.floor(((performance.now() - this.startMs) * this.opts.ratePerSec) / 1000) - this.sent;
      if (due <= 0) {
        this.waiting = 'timer';
        this.timer = setTimeout(this.pump, Math.max(1, Math.ceil(1000 / this.opts.ratePerSec)));
        return;
      }
      budget = Math.min(budget, due);
    }
    if (this.opts.confirm > 0) {
      budget = Math.min(budget, this.opts.confirm - this.outstanding);
      if (budget <= 0) { this.waiting = 'confirm'; return; }
    }
    try {
      for (let i = 0; i < budget; i++) {
        if (!this.publishOne()) {
          this.waiting = 'drain';
          this.port!.whenWritable(this.onDrain);
          return;
        }
      }
    } catch (err) {
      // The channel or connection is gone: stop here; the run reports the error and the shortfall.
      this.stats.recordError('producer publish', err);
      this.stop();
      return;
    }
    setImmediate(this.pump);
  };

  /** Publishes one message; false when the client asks us to wait. */
  private publishOne(): boolean {
    writeSendTime(this.body, nowEpochMs());
    const ok = this.port!.publish(this.queue, this.body, this.opts.persistent);
    if (this.opts.confirm > 0) this.outstanding += 1;
    this.sent += 1;
    this.stats.published += 1;
    return ok;
  }

  private readonly onDrain = (): void => {
    if (this.waiting === 'drain') this.pump();
  };

  private readonly onConfirm = (count: number, ack: boolean): void => {
    this.outstanding -= count;
    if (ack) this.stats.confirmed += count;
    else this.stats.nacked += count;
    if (this.outstanding === 0 && this.confirmWaiters.length > 0) {
      const waiters = this.confirmWaiters;
      this.confirmWaiters = [];
      for (const w of waiters) w();
    }
    if (this.waiting === 'confirm') this.pump();
  };
}
