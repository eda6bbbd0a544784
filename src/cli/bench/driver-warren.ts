// The bench on Warren's own client (src/client): heartbeats off (a busy generator must not be
// disconnected for a late heartbeat), one channel per connection.
import { connect, type Channel, type Connection } from '../../client/index.js';
import type { BenchDriver, ConsumerPort, ErrorSink, OnDelivery, PublisherEvents, PublisherPort, SetupPort } from './driver.js';

const PERSISTENT = { deliveryMode: 2 } as const;
const TRANSIENT = { deliveryMode: 1 } as const;

async function open(url: string, name: string, events: ErrorSink): Promise<{ conn: Connection; ch: Channel }> {
  const conn = await connect(url, { heartbeatSec: 0, connectionName: name });
  conn.onError = (err) => events.onError(`${name} connection`, err);
  try {
    const ch = await conn.createChannel();
    ch.onError = (err) => events.onError(`${name} channel`, err);
    return { conn, ch };
  } catch (err) {
    await conn.close().catch(() => {});
    throw err;
  }
}

async function openPublisher(url: string, name: string, confirm: boolean, events: PublisherEvents): Promise<PublisherPort> {
  const { conn, ch } = await open(url, name, events);
  if (confirm) {
    ch.onConfirm = (count, ack) => events.onConfirm(count, ack);
    await ch.confirmSelect();
  }
  return {
    publish: (routingKey, body, persistent) => ch.publish('', routingKey, body, persistent ? PERSISTENT : TRANSIENT),
    whenWritable: (cb) => conn.whenWritable(cb),
    close: () => conn.close(),
  };
}

async function openConsumer(url: string, name: string, o: { queue: string; prefetch: number; autoAck: boolean },
  onDelivery: OnDelivery, events: ErrorSink): Promise<ConsumerPort> {
  const { conn, ch } = await open(url, name, events);
  if (o.prefetch > 0) await ch.qos(o.prefetch);
  let tag: string | undefined;
  const port: ConsumerPort = {
    ack: (deliveryTag, multiple) => ch.ack(deliveryTag, multiple),
    close: async () => {
      if (tag !== undefined) await ch.cancel(tag).catch(() => {});
      await conn.close();
    },
  };
  tag = await ch.consume(o.queue, (deliveryTag, _redelivered, body) => onDelivery(deliveryTag, body, port), {
    noAck: o.autoAck,
    onCancel: () => events.onError(name, new Error('cancelled by the broker (queue deleted?)')),
  });
  return port;
}

async function openSetup(url: string, events: ErrorSink): Promise<SetupPort> {
  const conn = await connect(url, { heartbeatSec: 0, connectionName: 'warren-bench-setup' });
  conn.onError = (err) => events.onError('setup connection', err);
  const onChannel = async <T>(fn: (ch: Channel) => Promise<T>): Promise<T> => {
    const ch = await conn.createChannel();
    try { return await fn(ch); } finally { await ch.close(); }
  };
  return {
    declareQueue: (queue, d) => onChannel(async (ch) => { await ch.declareQueue(queue, d); }),
    queueExists: (queue) => onChannel((ch) => ch.declareQueue(queue, { passive: true }).then(() => true, () => false)),
    deleteQueue: (queue) => onChannel(async (ch) => { await ch.deleteQueue(queue); }),
    close: () => conn.close(),
  };
}

export const warrenDriver: BenchDriver = { openSetup, openPublisher, openConsumer };
