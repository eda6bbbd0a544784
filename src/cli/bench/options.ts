// The bench's settings, validated once from the command line (or built directly by tests).
import { CLIENT_KINDS, type ClientKind } from './driver.js';

export interface BenchOptions {
  readonly url: string;
  readonly producers: number;
  readonly consumers: number;
  /** Body size; the first TIMESTAMP_BYTES carry the send time, so at least that. */
  readonly sizeBytes: number;
  /** Length of the measured run; producers stop at its end, then the bench drains. */
  readonly durationSec: number;
  /** Upper bound on the drain phase (waiting for confirms and for consumers to catch up). */
  readonly drainSec: number;
  /** Publisher confirms with at most this many unconfirmed messages per producer; 0 = off. */
  readonly confirm: number;
  /** Per-consumer basic.qos prefetch count; 0 = unlimited (no basic.qos sent). */
  readonly prefetch: number;
  readonly autoAck: boolean;
  /** A queue name, or undefined to declare a fresh unique one. */
  readonly queue: string | undefined;
  readonly persistent: boolean;
  /**
   * The declared queue's x-queue-type (absent: the broker's default). `quorum` declares it durable
   * and not auto-delete, as RabbitMQ requires; the bench deletes it at the end either way.
   */
  readonly queueType: QueueType | undefined;
  /** Messages per second per producer; 0 = as fast as backpressure allows. */
  readonly ratePerSec: number;
  readonly json: boolean;
  /** Ack with multiple=true every N deliveries; 1 = one basic.ack per message. */
  readonly multiAckEvery: number;
  /** AMQP client the producers and consumers use: Warren's own (src/client) or amqplib. */
  readonly client: ClientKind;
}

/** Send time: float64 big-endian Unix-epoch milliseconds with a sub-millisecond fraction. */
export const TIMESTAMP_BYTES = 8;

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  url: 'amqp://guest:guest@127.0.0.1:5672',
  producers: 1,
  consumers: 1,
  sizeBytes: 1024,
  durationSec: 10,
  drainSec: 5,
  confirm: 0,
  prefetch: 0,
  autoAck: false,
  queue: undefined,
  persistent: false,
  queueType: undefined,
  ratePerSec: 0,
  json: false,
  multiAckEvery: 1,
  client: 'warren',
};

export const QUEUE_TYPES = ['classic', 'quorum'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

export class BenchOptionError extends Error {
  override readonly name = 'BenchOptionError';
  readonly code = 'BENCH_BAD_OPTION';
}

/** Largest body the bench will build (RabbitMQ's and Warren's default max message size). */
export const MAX_SIZE_BYTES = 16 * 1024 * 1024;

/** Checks cross-field rules; returns the options, adjusted only where documented. */
export function validateBenchOptions(o: BenchOptions): BenchOptions {
  const intIn = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new BenchOptionError(`--${name} must be an integer in [${min}, ${max}]${Number.isNaN(v) ? '' : `, got ${v}`}`);
    }
  };
  intIn('producers', o.producers, 0, 1000);
  intIn('consumers', o.consumers, 0, 1000);
  intIn('size', o.sizeBytes, TIMESTAMP_BYTES, MAX_SIZE_BYTES);
  intIn('confirm', o.confirm, 0, 1_000_000);
  intIn('prefetch', o.prefetch, 0, 65535);
  intIn('rate', o.ratePerSec, 0, 100_000_000);
  intIn('multi-ack-every', o.multiAckEvery, 1, 1_000_000);
  if (!(o.durationSec > 0) || o.durationSec > 86_400) {
    throw new BenchOptionError(`--duration must be in (0, 86400] seconds, got ${o.durationSec}`);
  }
  if (!(o.drainSec >= 0) || o.drainSec > 3600) {
    throw new BenchOptionError(`--drain must be in [0, 3600] seconds, got ${o.drainSec}`);
  }
  if (o.queueType !== undefined && !(QUEUE_TYPES as readonly string[]).includes(o.queueType)) {
    throw new BenchOptionError(`--queue-type must be one of ${QUEUE_TYPES.join(', ')}, got ${o.queueType}`);
  }
  if (!(CLIENT_KINDS as readonly string[]).includes(o.client)) {
    throw new BenchOptionError(`--client must be one of ${CLIENT_KINDS.join(', ')}, got ${String(o.client)}`);
  }
  if (o.producers === 0 && o.consumers === 0) {
    throw new BenchOptionError('nothing to do: --producers and --consumers are both 0');
  }
  if (!/^amqps?:\/\//.test(o.url)) throw new BenchOptionError(`--url must be amqp:// or amqps://, got ${o.url}`);
  if (o.queue !== undefined && (o.queue.length === 0 || Buffer.byteLength(o.queue) > 255)) {
    throw new BenchOptionError('--queue must be 1..255 bytes');
  }
  // A consumer holding fewer than N unacked messages would never reach its N-th delivery and
  // stall forever, so with a prefetch limit the multi-ack interval is capped by it.
  const multiAckEvery = o.prefetch > 0 ? Math.min(o.multiAckEvery, o.prefetch) : o.multiAckEvery;
  return { ...o, multiAckEvery };
}
