// Message TTL (x-message-ttl, expiration), x-expires, nextDeadlineMs — with fake times.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, checkout, delivered, enqueueAll, machine, msg } from './helpers.js';
import type { DeadLetterEffect, Effect } from '../../../src/queue/types.js';

const deadLetters = (effects: readonly Effect[]) =>
  effects.filter((e): e is DeadLetterEffect => e.kind === 'deadLetter').map((e) => `${e.reason}:${bodyOf(e.message)}`);

describe('message TTL', () => {
  test('x-message-ttl: messages expire in order on tick, dead-lettered as expired', () => {
    const q = machine({ 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' });
    enqueueAll(q, ['1'], 0);
    enqueueAll(q, ['2'], 500);
    assert.equal(q.nextDeadlineMs(), 1000);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 999 }).effects, []);
    assert.deepEqual(deadLetters(q.apply({ kind: 'tick', nowMs: 1000 }).effects), ['expired:1']);
    assert.equal(q.nextDeadlineMs(), 1500);
    assert.deepEqual(deadLetters(q.apply({ kind: 'tick', nowMs: 5000 }).effects), ['expired:2']);
    assert.equal(q.messageCount, 0);
    assert.equal(q.nextDeadlineMs(), undefined);
  });

  test('expired messages are not delivered to a late consumer, nor returned by get', () => {
    const q = machine({ 'x-message-ttl': 100 });
    enqueueAll(q, ['old'], 0);
    enqueueAll(q, ['new'], 150);
    assert.deepEqual(delivered(checkout(q, 'c', 0, { nowMs: 150 })), ['c:new']);
    const g = machine({ 'x-message-ttl': 100 });
    enqueueAll(g, ['old'], 0);
    assert.deepEqual(g.apply({ kind: 'get', getterId: 'x', noAck: true, nowMs: 100 }).reply, { kind: 'empty' });
  });

  test('per-message expiration and x-message-ttl: the smaller applies', () => {
    const q = machine({ 'x-message-ttl': 1000 });
    q.apply({ kind: 'enqueue', message: msg('short', { expiration: '200' }), nowMs: 0 });
    assert.equal(q.nextDeadlineMs(), 200);
    const p = machine({ 'x-message-ttl': 100 });
    p.apply({ kind: 'enqueue', message: msg('long', { expiration: '5000' }), nowMs: 0 });
    assert.equal(p.nextDeadlineMs(), 100);
  });

  test('per-message TTL: a message expires only when it reaches the head (classic semantics)', () => {
    const q = machine({ 'x-dead-letter-exchange': 'dlx' });
    q.apply({ kind: 'enqueue', message: msg('long', { expiration: '1000' }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('short', { expiration: '10' }), nowMs: 0 });
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 500 }).effects, []);
    assert.equal(q.messageCount, 2);
    assert.deepEqual(deadLetters(q.apply({ kind: 'tick', nowMs: 1000 }).effects), ['expired:long', 'expired:short']);
  });

  test('expiration "0": delivered if a consumer is waiting, else expires immediately', () => {
    const q = machine({ 'x-dead-letter-exchange': 'dlx' });
    const r = q.apply({ kind: 'enqueue', message: msg('now', { expiration: '0' }), nowMs: 10 });
    assert.deepEqual(deadLetters(r.effects), ['expired:now']);
    assert.equal(q.messageCount, 0);
    checkout(q, 'c', 0, { nowMs: 10 });
    const r2 = q.apply({ kind: 'enqueue', message: msg('now2', { expiration: '0' }), nowMs: 10 });
    assert.deepEqual(delivered(r2.effects), ['c:now2']);
  });

  test('priority levels: each level head can expire; nextDeadlineMs is the earliest head', () => {
    const q = machine({ 'x-max-priority': 2, 'x-dead-letter-exchange': 'dlx' });
    q.apply({ kind: 'enqueue', message: msg('lo', { expiration: '50' }), nowMs: 0 });
    q.apply({ kind: 'enqueue', message: msg('hi', { priority: 2, expiration: '500' }), nowMs: 0 });
    assert.equal(q.nextDeadlineMs(), 50);
    assert.deepEqual(deadLetters(q.apply({ kind: 'tick', nowMs: 60 }).effects), ['expired:lo']);
    assert.equal(q.nextDeadlineMs(), 500);
  });

  test('a returned message keeps its original expiry', () => {
    const q = machine({ 'x-message-ttl': 100 });
    checkout(q, 'c', 1);
    enqueueAll(q, ['1'], 0);
    q.apply({ kind: 'cancel', consumerId: 'c' });
    q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 150 });
    assert.equal(q.messageCount, 0);
  });

  test('settle uses the machine clock (largest nowMs applied) to skip expired heads', () => {
    const q = machine({ 'x-message-ttl': 100 });
    checkout(q, 'c', 1);
    enqueueAll(q, ['1', '2'], 0);
    enqueueAll(q, ['3'], 200); // clock is now 200: '2' is expired
    assert.equal(q.nowMs, 200);
    const r = q.apply({ kind: 'settle', consumerId: 'c', msgIds: [1] });
    assert.deepEqual(delivered(r.effects), ['c:3']);
  });
});

describe('x-expires', () => {
  test('queueExpired once after expiresMs unused; consumers, get and touch count as use', () => {
    const q = machine({ 'x-expires': 1000 }, 0);
    assert.equal(q.nextDeadlineMs(), 1000);
    q.apply({ kind: 'touch', nowMs: 500 });
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 1200 }).effects, []);
    q.apply({ kind: 'get', getterId: 'g', noAck: true, nowMs: 1400 });
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 2300 }).effects, []);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 2400 }).effects, [{ kind: 'queueExpired' }]);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 9999 }).effects, []);
    assert.equal(q.nextDeadlineMs(), undefined);
  });

  test('no expiry while a consumer exists; timer restarts when the last one leaves', () => {
    const q = machine({ 'x-expires': 1000 }, 0);
    checkout(q, 'c', 0, { nowMs: 100 });
    assert.equal(q.nextDeadlineMs(), undefined);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 5000 }).effects, []);
    q.apply({ kind: 'cancel', consumerId: 'c', nowMs: 5000 });
    assert.equal(q.nextDeadlineMs(), 6000);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 5999 }).effects, []);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 6000 }).effects, [{ kind: 'queueExpired' }]);
  });

  test('messages do not keep a queue alive', () => {
    const q = machine({ 'x-expires': 100 }, 0);
    enqueueAll(q, ['1'], 50);
    assert.deepEqual(q.apply({ kind: 'tick', nowMs: 100 }).effects, [{ kind: 'queueExpired' }]);
  });
});
