// x-death and the rest of the dead-letter rewrite, checked against RabbitMQ's documented behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetter, isDeathCycle } from '../../../src/queue/deadletter.js';
import { checkout, enqueueAll, machine, msg } from './helpers.js';
import type { DeadLetterEffect, MessageProperties, QueueArgs, QueueMessage } from '../../../src/queue/types.js';

const args: QueueArgs = { overflow: 'drop-head', singleActiveConsumer: false, deadLetterExchange: 'dlx' };

test('first death: x-death entry, first/last death headers, expiration removed, header dropped', () => {
  const m: QueueMessage = { ...msg('b', { expiration: '60000', contentType: 'text/plain', headers: { app: 1, CC: ['k2'] } } as MessageProperties), header: new Uint8Array([1]) };
  const d = deadLetter(m, args, { queue: 'q', reason: 'expired', nowMs: 1_700_000_000_123 });
  assert.equal(d.exchange, 'dlx');
  assert.equal(d.routingKey, 'rk');
  assert.equal(d.message.header, undefined);
  assert.equal(d.message.body, m.body);
  assert.equal(d.message.properties.expiration, undefined);
  assert.equal((d.message.properties as Record<string, unknown>)['contentType'], 'text/plain');
  assert.deepEqual(d.message.properties.headers, {
    app: 1,
    CC: ['k2'],
    'x-death': [{
      count: { $type: 'l', value: 1 },
      reason: 'expired',
      queue: 'q',
      time: { $type: 'T', value: 1_700_000_000 },
      exchange: 'ex',
      'routing-keys': ['rk', 'k2'],
      'original-expiration': '60000',
    }],
    'x-first-death-reason': 'expired',
    'x-first-death-queue': 'q',
    'x-first-death-exchange': 'ex',
    'x-last-death-reason': 'expired',
    'x-last-death-queue': 'q',
    'x-last-death-exchange': 'ex',
  });
  // the original message is untouched
  assert.deepEqual(m.properties.headers, { app: 1, CC: ['k2'] });
  assert.equal(m.properties.expiration, '60000');
});

test('repeat death for same queue+reason: count+1, moved to front; other deaths kept; first-death fixed', () => {
  const m0 = msg('b');
  const d1 = deadLetter(m0, args, { queue: 'q1', reason: 'rejected', nowMs: 1000 }).message;
  const d2 = deadLetter({ ...d1, exchange: 'dlx' }, args, { queue: 'q2', reason: 'expired', nowMs: 2000 }).message;
  const d3 = deadLetter({ ...d2, exchange: 'dlx' }, args, { queue: 'q1', reason: 'rejected', nowMs: 3000 }).message;
  const h = d3.properties.headers as Record<string, unknown>;
  const deaths = h['x-death'] as Record<string, unknown>[];
  assert.equal(deaths.length, 2);
  assert.equal(deaths[0]?.['queue'], 'q1');
  assert.deepEqual(deaths[0]?.['count'], { $type: 'l', value: 2 });
  assert.deepEqual(deaths[0]?.['time'], { $type: 'T', value: 1 }); // first time kept
  assert.equal(deaths[0]?.['exchange'], 'ex');
  assert.equal(deaths[1]?.['queue'], 'q2');
  assert.equal(h['x-first-death-queue'], 'q1');
  assert.equal(h['x-first-death-reason'], 'rejected');
  assert.equal(h['x-last-death-queue'], 'q1');
  assert.equal(h['x-last-death-exchange'], 'dlx');
});

test('existing x-death decoded with plain numbers / bigint counts is incremented', () => {
  const m = msg('b', { headers: { 'x-death': [{ count: 4n, reason: 'maxlen', queue: 'q' }] } });
  const d = deadLetter(m, args, { queue: 'q', reason: 'maxlen', nowMs: 0 }).message;
  const deaths = d.properties.headers?.['x-death'] as Record<string, unknown>[];
  assert.deepEqual(deaths[0]?.['count'], { $type: 'l', value: 5 });
});

test('x-dead-letter-routing-key replaces the routing key and removes CC', () => {
  const d = deadLetter(msg('b', { headers: { CC: ['x'] } }), { ...args, deadLetterRoutingKey: 'dead' }, { queue: 'q', reason: 'rejected', nowMs: 0 });
  assert.equal(d.routingKey, 'dead');
  assert.equal(d.message.properties.headers?.['CC'], undefined);
  const deaths = d.message.properties.headers?.['x-death'] as Record<string, unknown>[];
  assert.deepEqual(deaths[0]?.['routing-keys'], ['rk', 'x']);
});

test('machine dead-letter effect carries queue name and clock', () => {
  const q = machine({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' }, 0, 'orders');
  checkout(q, 'c', 1);
  enqueueAll(q, ['m'], 5000);
  const [e] = q.apply({ kind: 'discard', consumerId: 'c', msgIds: [1], nowMs: 7000 }).effects as DeadLetterEffect[];
  assert.ok(e);
  assert.equal(e.exchange, '');
  assert.equal(e.routingKey, 'dlq');
  const deaths = e.message.properties.headers?.['x-death'] as Record<string, unknown>[];
  assert.equal(deaths[0]?.['queue'], 'orders');
  assert.deepEqual(deaths[0]?.['time'], { $type: 'T', value: 7 });
});

test('isDeathCycle: automatic cycles only', () => {
  const once = deadLetter(msg('b'), args, { queue: 'a', reason: 'expired', nowMs: 0 }).message;
  assert.equal(isDeathCycle(once, 'a'), true);
  assert.equal(isDeathCycle(once, 'b'), false);
  const rejected = deadLetter(once, args, { queue: 'b', reason: 'rejected', nowMs: 0 }).message;
  assert.equal(isDeathCycle(rejected, 'a'), false);
  assert.equal(isDeathCycle(msg('fresh'), 'a'), false);
});
