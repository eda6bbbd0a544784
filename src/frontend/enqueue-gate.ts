// The node's bound on enqueues waiting for their owners (a durable queue's: for a Raft commit).
// At the limit, every channel that publishes stops its connection's reading until half of them
// are answered. RabbitMQ's channels hold a similar limit of commands pending at quorum queues; it
// keeps fast publishers from filling the commit pipeline ahead of the consumers' acks, whose log
// entries go through the same writes (docs/durability.md). Node-wide, not per channel: N
// publishing channels would otherwise fill it N times over.
/** Enqueues in flight at which publishing connections stop reading. */
export const ENQUEUES_IN_FLIGHT_LIMIT = 128;

export class EnqueueGate {
  private inFlight = 0;
  /** Connections holding their reading for the gate. */
  private readonly held = new Set<Holder>();

  constructor(private readonly limit = ENQUEUES_IN_FLIGHT_LIMIT) {}

  get waiting(): number {
    return this.inFlight;
  }

  /** An enqueue was sent by `holder`'s channel: at the limit, the holder stops reading. */
  sent(holder: Holder): void {
    if (++this.inFlight < this.limit || this.held.has(holder)) return;
    this.held.add(holder);
    holder.holdReading(true);
  }

  /** An enqueue was answered: at half the limit, every held connection reads again. */
  answered(): void {
    if (--this.inFlight > this.limit / 2 || this.held.size === 0) return;
    const held = [...this.held];
    this.held.clear();
    for (const h of held) h.holdReading(false);
  }

  /** The holder is going away: its hold ends with it. */
  forget(holder: Holder): void {
    if (this.held.delete(holder)) holder.holdReading(false);
  }
}

/** What the gate pauses: a connection's reading (Connection.holdReading counts holds). */
export interface Holder {
  holdReading(on: boolean): void;
}
