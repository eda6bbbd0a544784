// On an owner: the Consume streams frontends opened to it, one per frontend session, and the
// consumer sinks that write into them. A partition led here delivers to (session, consumer) as its
// replicated state says — after an election too, before the frontend asked this owner anything —
// so a sink exists for any session; while the session has no stream here its deliveries wait
// (bounded) for one. A session whose stream has been gone for `graceMs` is down: onDown runs and
// the owner hands what its consumers held back to their queues.
import type { ConsumerSink, Delivery } from '../owner/api.js';
import { encodeContentHeader } from '../amqp/content.js';
import type { warren } from '../proto/owner.js';

type Event = warren.v1.ConsumeEvent.$Properties;
type WireDelivery = warren.v1.Delivery.$Properties;

/** What a cluster frontend puts before its connection ids: exclusive queues name their session through it. */
export function sessionConnectionPrefix(session: string): string {
  return `${session}/`;
}

/** The frontend session a connection id names (sessionConnectionPrefix), if any. */
export function sessionOfConnection(connectionId: string): string | undefined {
  const cut = connectionId.indexOf('/');
  return cut > 0 ? connectionId.slice(0, cut) : undefined;
}

/** Deliveries held for a session without a stream beyond this are dropped (their messages stay checked out until the session is downed). */
const MAX_HELD_EVENTS = 100_000;

export interface StreamWriter {
  write(ev: Event): boolean;
}

interface Session {
  stream: StreamWriter | undefined;
  /** Events waiting for a stream. */
  held: Event[];
  /** Deliveries of this turn, sent as one event. */
  batch: WireDelivery[];
  flushing: boolean;
  downTimer: NodeJS.Timeout | undefined;
  readonly sinks: Map<string, ConsumerSink>;
}

export class SessionStreams {
  private readonly sessions = new Map<string, Session>();
  private stopped = false;

  constructor(
    private readonly graceMs: number,
    private readonly onDown: (session: string) => void,
  ) {}

  private session(id: string): Session {
    let s = this.sessions.get(id);
    if (s === undefined) {
      s = { stream: undefined, held: [], batch: [], flushing: false, downTimer: undefined, sinks: new Map() };
      this.sessions.set(id, s);
      // Known only from replicated state (no stream yet): down unless a stream comes within the grace.
      this.armDown(id, s);
    }
    return s;
  }

  /** The session's Consume stream (re)opened here: held events go out, the session is live. */
  attach(id: string, stream: StreamWriter): void {
    const s = this.session(id);
    s.stream = stream;
    clearTimeout(s.downTimer);
    s.downTimer = undefined;
    const held = s.held;
    s.held = [];
    for (const ev of held) stream.write(ev);
  }

  /** The stream ended: the session is down unless it opens another within the grace. */
  detach(id: string, stream: StreamWriter): void {
    const s = this.sessions.get(id);
    if (s === undefined || s.stream !== stream) return;
    s.stream = undefined;
    this.armDown(id, s);
  }

  isLive(id: string): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && (s.stream !== undefined || s.downTimer !== undefined);
  }

  private armDown(id: string, s: Session): void {
    if (this.stopped || s.downTimer !== undefined) return;
    s.downTimer = setTimeout(() => {
      s.downTimer = undefined;
      if (s.stream !== undefined) return;
      this.sessions.delete(id);
      this.onDown(id);
    }, this.graceMs);
    s.downTimer.unref?.();
  }

  /** The sink of (session, consumer) on this owner: its deliveries and cancellation go out on the session's stream. */
  sink(id: string, consumer: string): ConsumerSink {
    const s = this.session(id);
    let sink = s.sinks.get(consumer);
    if (sink === undefined) {
      sink = {
        deliver: (d) => this.deliver(s, consumer, d),
        cancelled: () => {
          s.sinks.delete(consumer);
          this.send(s, { cancelled: { queue: { name: '' }, consumer } });
        },
      };
      s.sinks.set(consumer, sink);
    }
    return sink;
  }

  /** Forgets a consumer's sink (cancelled by its frontend). */
  drop(id: string, consumer: string): void {
    this.sessions.get(id)?.sinks.delete(consumer);
  }

  private deliver(s: Session, consumer: string, d: Delivery): void {
    const m = d.message;
    s.batch.push({
      consumer, queue: d.queue, msgId: d.msgId, redelivered: d.redelivered, exchange: m.exchange, routingKey: m.routingKey,
      header: m.header ?? encodeContentHeader(m.properties, m.body.byteLength), body: m.body,
    });
    if (s.flushing) return;
    s.flushing = true;
    queueMicrotask(() => {
      s.flushing = false;
      const deliveries = s.batch;
      s.batch = [];
      if (deliveries.length > 0) this.send(s, { deliveries: { deliveries } });
    });
  }

  private send(s: Session, ev: Event): void {
    if (s.stream !== undefined) s.stream.write(ev);
    else if (s.held.length < MAX_HELD_EVENTS) s.held.push(ev);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sessions.values()) clearTimeout(s.downTimer);
    this.sessions.clear();
  }
}
