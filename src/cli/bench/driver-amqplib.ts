// The bench on amqplib, kept to cross-check the warren client's figures.
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import type { BenchDriver, ConsumerPort, ErrorSink, OnDelivery, PublisherEvents, PublisherPort, SetupPort } from './driver.js';

async function open(url: string, name: string, events: ErrorSink, confirm: boolean): Promise<{ conn: ChannelModel; ch: Channel }> {
  const conn = await connect(url, { noDelay: true, clientProperties: { connection_name: name } });
  conn.on('error', (err: Error) => events.onError(`${name} connection`, err));
  try {
    const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
    ch.on('error', (err: Error) => events.onError(`${name} channel`, err));
    return { conn, ch };
  } catch (err) {
    await conn.close().catch(() => {});
    throw err;
  }
}

async function openPublisher(url: string, name: string, confirm: boolean, events: PublisherEvents): Promise<PublisherPort> {
  const { conn, ch } = await open(url, name, events, confirm);
  const persistentOptions = { deliveryMode: 2 };
  const transientOptions = { deliveryMode: 1 };
  // One shared callback for every publish: no closure is allocated per message.
  const onConfirm = (err: unknown): void => events.onConfirm(1, !err);
  return {
    publish: (routingKey, body, persistent) => {
      const o = persistent ? persistentOptions : transientOptions;
      return confirm ? (ch as ConfirmChannel).publish('', routingKey, body, o, onConfirm) : ch.publish('', routingKey, body, o);
    },
    whenWritable: (cb) => { ch.once('drain', cb); },
    close: () => conn.close(),
  };
}

async function openConsumer(url: string, name: string, o: { queue: string; prefetch: number; autoAck: boolean },
  onDelivery: OnDelivery, events: ErrorSink): Promise<ConsumerPort> {
  const { conn, ch } = await open(url, name, events, false);
  if (o.prefetch > 0) await ch.prefetch(o.prefetch);
  let consumerTag: string | undefined;
  const port: ConsumerPort = {
    // amqplib's ack reads only message.fields.deliveryTag.
    ack: (deliveryTag, multiple) => ch.ack({ fields: { deliveryTag } } as Message, multiple),
    close: async () => {
      try {
        if (consumerTag !== undefined) await ch.cancel(consumerTag);
      } catch { /* channel already closed: the error was recorded */ }
      await conn.close();
    },
  };
  const ok = await ch.consume(o.queue, (msg) => {
    if (msg === null) events.onError(name, new Error('cancelled by the broker (queue deleted?)'));
    else onDelivery(msg.fields.deliveryTag, msg.content, port);
  }, { noAck: o.autoAck });
  consumerTag = ok.consumerTag;
  return port;
}

async function openSetup(url: string, events: ErrorSink): Promise<SetupPort> {
  const conn = await connect(url);
  conn.on('error', (err: Error) => events.onError('setup connection', err));
  return {
    declareQueue: async (queue, d) => {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, d);
      await ch.close();
    },
    queueExists: async (queue) => {
      const probe = await conn.createChannel();
      probe.on('error', () => {});
      const exists = await probe.checkQueue(queue).then(() => true, () => false);
      if (exists) await probe.close().catch(() => {});
      return exists;
    },
    deleteQueue: async (queue) => {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.deleteQueue(queue);
      await ch.close();
    },
    close: () => conn.close(),
  };
}

export const amqplibDriver: BenchDriver = { openSetup, openPublisher, openConsumer };
