// On an owner: the Consume streams frontends opened to it, one per frontend session, and the
// consumer sinks that write into them. A partition led here delivers to (session, consumer) as its
// replicated state says — after an election too, before the frontend asked this owner anything —
// so a sink exists for any session; while the session has no stream here its deliveries wait
// (bounded) for one. Whether a session is alive is not decided here: that is its lease in the
// metadata group (src/meta/sessions.ts); the owner forgets a session once its lease has ended.
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
  readonly sinks: Map<string, ConsumerSink>;
}

export class SessionStreams {
  private readonly sessions = new Map<string, Session>();

  private session(id: string): Session {
    let s = this.sessions.get(id);
    if (s === undefined) {
      s = { stream: undefined, held: [], batch: [], flushing: false, sinks: new Map() };
      this.sessions.set(id, s);
    }
    return s;
  }

  /** The session's Consume stream (re)opened here: held events go out. */
  attach(id: string, stream: StreamWriter): void {
    const s = this.session(id);
    s.stream = stream;
    const held = s.held;
    s.held = [];
    for (const ev of held) stream.write(ev);
  }

  /** The stream ended: deliveries wait for the session's next stream (or its lease's end). */
  detach(id: string, stream: StreamWriter): void {
    const s = this.sessions.get(id);
    if (s === undefined || s.stream !== stream) return;
    s.stream = undefined;
  }

  /** The sessions known here (with a stream, or deliveries waiting for one). */
  ids(): string[] {
    return [...this.sessions.keys()];
  }

  /** The session's lease has ended: nothing more goes to it (what it held is being returned). */
  forget(id: string): void {
    this.sessions.delete(id);
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
      consumer, queue: d.queue, msgId: d.msgId, redelivered: d.redelivered, term: d.term ?? 0, exchange: m.exchange, routingKey: m.routingKey,
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
    this.sessions.clear();
  }
}
