// The amqplib half of the corpus capture (capture.ts): one connection doing what applications do.
import amqp from 'amqplib';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { txCommit, txRollback, txSelect } from '../helpers/amqp.js';

const HEADERS = {
  kind: 'order', region: 'eu', n: 42, neg: -7, big: 2 ** 40, ratio: 0.25, ok: true, missing: null,
  nested: { customer: { id: 'c-17', tier: 'gold' }, tags: ['a', 'b'] },
  list: [1, 'two', false, { three: 3 }], raw: Buffer.from([0, 1, 2, 254, 255]),
  f32: { '!': 'float', value: 1.5 }, i8: { '!': 'int8', value: -3 }, u16: { '!': 'uint16', value: 65000 },
  ts: { '!': 'timestamp', value: 1_700_000_000 }, price: { '!': 'decimal', value: { places: 2, digits: 1250 } },
};

function props(i: number): Options.Publish {
  return {
    contentType: 'application/json', contentEncoding: 'utf-8', headers: { ...HEADERS, i }, deliveryMode: 2, priority: i % 5,
    correlationId: `corr-${i}`, replyTo: 'cap.replies', expiration: '60000', messageId: `msg-${i}`,
    timestamp: 1_700_000_000 + i, type: 'order.created', userId: 'guest', appId: 'capture-amqplib',
  };
}

function nextMessage(ch: Channel, queue: string, n: number, tag: string): Promise<ConsumeMessage[]> {
  const got: ConsumeMessage[] = [];
  return new Promise((resolve, reject) => {
    ch.consume(queue, (m) => {
      if (m === null) return;
      got.push(m);
      if (got.length === n) resolve(got);
    }, { consumerTag: tag, arguments: { 'x-priority': 3 } }).catch(reject);
  });
}

export async function amqplibSession(url: string, prefix: string): Promise<void> {
  const conn = await amqp.connect(url, { clientProperties: { connection_name: 'fuzz-capture' } });
  conn.on('error', () => {});
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  await ch.prefetch(20);
  const [topic, alt, headersEx, q] = [`${prefix}.topic`, `${prefix}.alt`, `${prefix}.headers`, `${prefix}.q`];
  await ch.assertExchange(alt, 'fanout', { durable: false });
  await ch.assertExchange(topic, 'topic', { durable: true, arguments: { 'alternate-exchange': alt } });
  await ch.assertExchange(headersEx, 'headers', { autoDelete: false });
  await ch.assertQueue(q, { durable: true, arguments: { 'x-message-ttl': 60000, 'x-max-length': 1000, 'x-dead-letter-exchange': alt, 'x-max-priority': 5 } });
  // Named, not server-named: replayed into a fresh broker the seed must still refer to an existing queue.
  const { queue: anon } = await ch.assertQueue(`${prefix}.exclusive`, { exclusive: true });
  await ch.bindQueue(q, topic, 'orders.#');
  await ch.bindQueue(anon, headersEx, '', { 'x-match': 'all', kind: 'order', region: 'eu' });
  await ch.bindExchange(headersEx, topic, 'orders.*.eu');
  for (let i = 0; i < 3; i++) ch.publish(topic, `orders.created.eu`, Buffer.from(JSON.stringify({ i })), props(i));
  ch.publish(headersEx, '', Buffer.alloc(300, 7), { headers: { kind: 'order', region: 'eu' } });
  const [a, b, c] = await nextMessage(ch, q, 3, 'cap-consumer');
  if (a === undefined || b === undefined || c === undefined) throw new Error('consume: fewer than 3 messages');
  ch.ack(a);
  ch.nack(b, false, false);
  ch.reject(c, true);
  await ch.cancel('cap-consumer');
  const got = await ch.get(q, { noAck: false });
  if (got !== false) ch.ack(got);
  const fromHeaders = await ch.get(anon, { noAck: true });
  if (fromHeaders === false) throw new Error('headers exchange did not route');

  const confirm = await conn.createConfirmChannel();
  confirm.on('error', () => {});
  for (let i = 0; i < 5; i++) confirm.publish('', q, Buffer.from(`confirmed ${i}`), { persistent: true, headers: { seq: i } });
  await confirm.waitForConfirms();
  await confirm.close();

  const tx = await conn.createChannel();
  tx.on('error', () => {});
  await txSelect(tx);
  tx.publish('', q, Buffer.from('rolled back'));
  await txRollback(tx);
  tx.publish('', q, Buffer.from('committed'), { headers: { tx: true } });
  await txCommit(tx);
  await tx.close();

  await ch.unbindQueue(q, topic, 'orders.#');
  await ch.unbindExchange(headersEx, topic, 'orders.*.eu');
  await ch.purgeQueue(q);
  await ch.deleteQueue(q, { ifUnused: false, ifEmpty: false });
  for (const e of [topic, headersEx, alt]) await ch.deleteExchange(e);
  await ch.close();
  await conn.close();
}
