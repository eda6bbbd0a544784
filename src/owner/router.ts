// The node's OwnerClient: durable queues go to their partition (replicated, on disk), transient
// ones — non-durable or exclusive — to the in-memory owner, as RabbitMQ keeps
// transient classic queues in memory (docs/durability.md). Which kind a queue is comes from its
// metadata record, fixed at declare.
import type {
  ConsumeOptions, ConsumerSink, DeclareCounts, DeleteConditions, EnqueueOutcome, GetResult, Message, OwnerClient,
  QueueRef, QueueSpec, QueueStats, Settlement,
} from './api.js';
import type { DurableOwner } from './durable.js';
import type { LocalOwner } from './local.js';

/** Queue stats for the management API and metrics, from whichever owner hosts the queue. */
export interface OwnerStats {
  stats(q: QueueRef): QueueStats | undefined;
  list(): IterableIterator<{ ref: QueueRef; stats: QueueStats }>;
}

export class RoutingOwner implements OwnerClient, OwnerStats {
  constructor(
    private readonly transient: LocalOwner,
    private readonly durable: DurableOwner,
    /** True when the queue's record says it lives in a partition. */
    private readonly isDurable: (q: QueueRef) => boolean,
  ) {}

  private of(q: QueueRef): OwnerClient & OwnerStats {
    return this.isDurable(q) ? this.durable : this.transient;
  }

  declareQueue(q: QueueRef, spec: QueueSpec): Promise<DeclareCounts> { return this.of(q).declareQueue(q, spec); }
  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void {
    this.of(q).enqueue(q, message, done);
  }
  consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink): Promise<void> {
    return this.of(q).consume(q, consumerId, opts, sink);
  }
  cancel(q: QueueRef, consumerId: string): void { this.of(q).cancel(q, consumerId); }
  setFlow(q: QueueRef, consumerId: string, active: boolean): void { this.of(q).setFlow(q, consumerId, active); }
  settle(q: QueueRef, consumerId: string, msgIds: readonly number[], how: Settlement, done?: () => void): void {
    this.of(q).settle(q, consumerId, msgIds, how, done);
  }
  get(q: QueueRef, getterId: string, noAck: boolean): Promise<GetResult | undefined> { return this.of(q).get(q, getterId, noAck); }
  purge(q: QueueRef): Promise<number> { return this.of(q).purge(q); }
  deleteQueue(q: QueueRef, conditions?: DeleteConditions): Promise<number> { return this.of(q).deleteQueue(q, conditions); }

  stats(q: QueueRef): QueueStats | undefined { return this.of(q).stats(q); }
  *list(): IterableIterator<{ ref: QueueRef; stats: QueueStats }> {
    yield* this.transient.list();
    yield* this.durable.list();
  }
}
