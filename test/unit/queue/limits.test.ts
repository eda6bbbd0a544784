// x-max-length(-bytes) with each overflow mode, x-max-priority, x-delivery-limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, checkout, delivered, deliveries, enqueueAll, machine, msg } from './helpers.js';
import type { DeadLetterEffect, Effect } from '../../../src/queue/types.js';

const deadLetters = (effects: readonly Effect[]) =>
  effects.filter((e): e is DeadLetterEffect => e.kind === 'deadLetter').map((e) => `${e.reason}:${bodyOf(e.message)}`);

describe('overflow', () => {
  test('drop-head: oldest ready dead-lettered as maxlen', () => {
    const q = machine({ 'x-max-length': 2, 'x-dead-letter-exchange': 'dlx' });
    const effects = enqueueAll(q, ['1', '2', '3', '4']);
    assert.deepEqual(deadLetters(effects), ['maxlen:1', 'maxlen:2']);
    assert.equal(q.messageCount, 2);
    assert.deepEqual(delivered(checkout(q, 'c')), ['c:3', 'c:4']);
  });

  test('drop-head by bytes; unacked messages do not count', () => {
    const q = machine({ 'x-max-length-bytes': 5 });
    checkout(q, 'c', 1);
    enqueueAll(q, ['aaaa', 'bbb', 'cc']); // aaaa unacked; bbb+cc = 5 ready
    assert.equal(q.messageCount, 2);
    enqueueAll(q, ['d']);
    assert.equal(q.messageCount, 2); // bbb dropped
    assert.equal(q.readyBytes, 3);
    assert.equal(q.bytes, 7);
  });

  test('reject-publish: rejected when full, nothing dead-lettered', () => {
    const q = machine({ 'x-max-length': 1, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'dlx' });
    assert.equal(q.apply({ kind: 'enqueue', message: msg('1'), nowMs: 0 }).reply, 'accepted');
    const r = q.apply({ kind: 'enqueue', message: msg('2'), nowMs: 0 });
    assert.equal(r.reply, 'rejected');
    assert.deepEqual(r.effects, []);
    assert.equal(q.messageCount, 1);
  });

  test('reject-publish with x-max-length 0 rejects even with a consumer waiting (RabbitMQ checks first)', () => {
    const q = machine({ 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    checkout(q, 'c');
    assert.equal(q.apply({ kind: 'enqueue', message: msg('1'), nowMs: 0 }).reply, 'rejected');
  });

  test('reject-publish-dlx: rejected AND dead-lettered as maxlen', () => {
    const q = machine({ 'x-max-length-bytes': 3, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx' });
    enqueueAll(q, ['abc']);
    const r = q.apply({ kind: 'enqueue', message: msg('d'), nowMs: 0 });
    assert.equal(r.reply, 'rejected');
    assert.deepEqual(deadLetters(r.effects), ['maxlen:d']);
  });

  test('drop-head also applies after returns push the queue over the limit', () => {
    const q = machine({ 'x-max-length': 2 });
    checkout(q, 'c', 1);
    enqueueAll(q, ['1', '2', '3']);
    q.apply({ kind: 'cancel', consumerId: 'c' });
    q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.equal(q.messageCount, 2);
    assert.deepEqual(delivered(checkout(q, 'd')), ['d:2', 'd:3']);
  });
});

describe('priority queue (x-max-priority)', () => {
  test('higher priority first, FIFO within a priority, above-max treated as max', () => {
    const q = machine({ 'x-max-priority': 5 });
    q.apply({ kind: 'enqueue', message: msg('p0a'), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('p3a', { priority: 3 }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('p9', { priority: 9 }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('p0b', { priority: 0 }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('p5', { priority: 5 }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('p3b', { priority: 3 }), nowMs: 0 });
    assert.deepEqual(delivered(checkout(q, 'c')), ['c:p9', 'c:p5', 'c:p3a', 'c:p3b', 'c:p0a', 'c:p0b']);
  });

  test('without x-max-priority the priority property is ignored', () => {
    const q = machine();
    q.apply({ kind: 'enqueue', message: msg('a'), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('b', { priority: 9 }), nowMs: 0 });
    assert.deepEqual(delivered(checkout(q, 'c')), ['c:a', 'c:b']);
  });

  test('returned messages go back into their priority level in order', () => {
    const q = machine({ 'x-max-priority': 2 });
    checkout(q, 'c', 2);
    q.apply({ kind: 'enqueue', message: msg('hi', { priority: 2 }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('lo'), nowMs: 0 });
    q.apply({ kind: 'cancel', consumerId: 'c' });
    q.apply({ kind: 'enqueue', message: msg('hi2', { priority: 2 }), nowMs: 0 });
    q.apply({ kind: 'return', consumerId: 'c', msgIds: [2, 1], nowMs: 0 });
    assert.deepEqual(delivered(checkout(q, 'd')), ['d:hi', 'd:hi2', 'd:lo']);
  });
});

describe('x-delivery-limit', () => {
  test('dead-lettered as delivery_limit once returned more than the limit', () => {
    const q = machine({ 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx' });
    checkout(q, 'c', 1);
    enqueueAll(q, ['m']);
    const r1 = q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 0 });
    const [d] = deliveries(r1.effects);
    assert.equal(d?.deliveryCount, 1);
    const r2 = q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.deepEqual(deadLetters(r2.effects), ['delivery_limit:m']);
    assert.equal(q.messageCount + q.unackedCount, 0);
  });

  test('without DLX the message is dropped', () => {
    const q = machine({ 'x-delivery-limit': 0 });
    checkout(q, 'c', 1);
    enqueueAll(q, ['m', 'n']);
    const r = q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.deepEqual(delivered(r.effects), ['c:n']);
    assert.equal(r.effects.length, 1);
  });
});
