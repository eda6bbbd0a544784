// What the bench needs from an AMQP client, so producers, consumers and the run are written once and
// run on either Warren's own lean client (src/client, the default) or amqplib (for cross-checking).
// Each port owns one connection.

export const CLIENT_KINDS = ['warren', 'amqplib'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface ErrorSink {
  /** A connection or channel error, or the broker cancelling a consumer. */
  onError(context: string, err: unknown): void;
}

export interface PublisherPort {
  /** Publishes to the default exchange; false when the caller should wait for whenWritable(). */
  publish(routingKey: string, body: Buffer, persistent: boolean): boolean;
  /** Calls `cb` once, asynchronously, when publishing may resume. */
  whenWritable(cb: () => void): void;
  close(): Promise<void>;
}

export interface PublisherEvents extends ErrorSink {
  /** With confirms on: `count` publishes were acked (ack=true) or nacked. */
  onConfirm(count: number, ack: boolean): void;
}

export interface ConsumerPort {
  ack(deliveryTag: number, multiple: boolean): void;
  /** basic.cancel, then close the connection. */
  close(): Promise<void>;
}

/** `port` is the consumer's own port, usable for acks before openConsumer() has resolved. */
export type OnDelivery = (deliveryTag: number, body: Buffer, port: ConsumerPort) => void;

/** How the bench declares its queue (`arguments`: x-queue-type for --queue-type). */
export interface QueueDeclaration {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Record<string, string>;
}

/** Queue management on a short-lived setup connection. */
export interface SetupPort {
  declareQueue(queue: string, o: QueueDeclaration): Promise<void>;
  /** queue.declare passive on a throwaway channel (a missing queue closes that channel with 404). */
  queueExists(queue: string): Promise<boolean>;
  deleteQueue(queue: string): Promise<void>;
  close(): Promise<void>;
}

export interface BenchDriver {
  openSetup(url: string, events: ErrorSink): Promise<SetupPort>;
  openPublisher(url: string, name: string, confirm: boolean, events: PublisherEvents): Promise<PublisherPort>;
  openConsumer(url: string, name: string, o: { queue: string; prefetch: number; autoAck: boolean },
    onDelivery: OnDelivery, events: ErrorSink): Promise<ConsumerPort>;
}
