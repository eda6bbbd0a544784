// Core commands: enqueue, checkout, settle, return, discard, cancel, down, returnAll, get, purge, delete.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, checkout, delivered, deliveries, enqueueAll, machine, msg } from './helpers.js';
import type { GetReply } from '../../../src/queue/types.js';

describe('queue machine: enqueue and consume', () => {
  test('enqueue without consumers keeps messages ready, counts bytes', () => {
    const q = machine();
    const r = q.apply({ kind: 'enqueue', message: msg('hello'), nowMs: 0 });
    assert.equal(r.reply, 'accepted');
    assert.deepEqual(r.effects, []);
    enqueueAll(q, ['a', 'bb']);
    assert.equal(q.messageCount, 3);
    assert.equal(q.bytes, 8);
    assert.equal(q.isEmpty, false);
  });

  test('checkout delivers backlog within prefetch; settle frees credit', () => {
    const q = machine();
    enqueueAll(q, ['1', '2', '3', '4', '5']);
    assert.deepEqual(delivered(checkout(q, 'c1', 2)), ['c1:1', 'c1:2']);
    assert.equal(q.unackedCount, 2);
    assert.equal(q.messageCount, 3);
    const ids = deliveries(checkout(q, 'c2', 1)).map((d) => d.msgId);
    assert.equal(ids.length, 1);
    const r = q.apply({ kind: 'settle', consumerId: 'c1', msgIds: [1] });
    assert.deepEqual(delivered(r.effects), ['c1:4']);
    assert.equal(q.unackedCount, 3);
  });

  test('enqueue delivers in the same apply when a consumer has credit; msgIds are sequential', () => {
    const q = machine();
    checkout(q, 'c', 0);
    const r = q.apply({ kind: 'enqueue', message: msg('x'), nowMs: 0 });
    const [d] = deliveries(r.effects);
    assert.ok(d);
    assert.equal(d.msgId, 1);
    assert.equal(d.redelivered, false);
    assert.equal(d.deliveryCount, 0);
    assert.equal(q.messageCount, 0);
    assert.equal(deliveries(enqueueAll(q, ['y']))[0]?.msgId, 2);
  });

  test('noAck consumers are not limited by prefetch and hold nothing unacked', () => {
    const q = machine();
    enqueueAll(q, ['1', '2', '3']);
    assert.deepEqual(delivered(checkout(q, 'c', 1, { noAck: true })), ['c:1', 'c:2', 'c:3']);
    assert.equal(q.unackedCount, 0);
    assert.equal(q.bytes, 0);
  });

  test('settle of an unknown id, or of another consumer\'s message, is ignored', () => {
    const q = machine();
    checkout(q, 'a', 1);
    enqueueAll(q, ['1', '2']);
    const r = q.apply({ kind: 'settle', consumerId: 'b', msgIds: [1, 99] });
    assert.deepEqual(r.effects, []);
    assert.equal(q.unackedCount, 1);
  });

  test('duplicate checkout id is ignored', () => {
    const q = machine();
    checkout(q, 'c', 1);
    checkout(q, 'c', 5);
    enqueueAll(q, ['1', '2']);
    assert.equal(q.consumerCount, 1);
    assert.equal(q.unackedCount, 1);
  });
});

describe('queue machine: consumer selection', () => {
  test('round-robin between consumers of equal priority', () => {
    const q = machine();
    checkout(q, 'a');
    checkout(q, 'b');
    checkout(q, 'c');
    assert.deepEqual(delivered(enqueueAll(q, ['1', '2', '3', '4', '5', '6'])), ['a:1', 'b:2', 'c:3', 'a:4', 'b:5', 'c:6']);
  });

  test('consumer priorities: higher priority first, lower only when higher is blocked', () => {
    const q = machine();
    checkout(q, 'low', 0, { priority: 0 });
    checkout(q, 'hi1', 1, { priority: 10 });
    checkout(q, 'hi2', 1, { priority: 10 });
    assert.deepEqual(delivered(enqueueAll(q, ['1', '2', '3', '4'])), ['hi1:1', 'hi2:2', 'low:3', 'low:4']);
    const r = q.apply({ kind: 'settle', consumerId: 'hi2', msgIds: [2] });
    assert.deepEqual(r.effects, []);
    assert.deepEqual(delivered(enqueueAll(q, ['5', '6'])), ['hi2:5', 'low:6']);
  });

  test('cancel stops deliveries; its unacked stay checked out and can still be settled', () => {
    const q = machine();
    checkout(q, 'a', 1);
    enqueueAll(q, ['1', '2']);
    q.apply({ kind: 'cancel', consumerId: 'a' });
    assert.equal(q.consumerCount, 0);
    assert.equal(q.unackedCount, 1);
    q.apply({ kind: 'settle', consumerId: 'a', msgIds: [1] });
    assert.equal(q.unackedCount, 0);
    assert.equal(q.messageCount, 1);
    assert.deepEqual(delivered(checkout(q, 'b', 1)), ['b:2']);
  });

  test('a consumer re-registered under the same id after cancel keeps its own credit', () => {
    const q = machine();
    checkout(q, 'a', 1);
    enqueueAll(q, ['1']);
    q.apply({ kind: 'cancel', consumerId: 'a' });
    checkout(q, 'a', 1);
    assert.deepEqual(delivered(enqueueAll(q, ['2'])), ['a:2']);
    // settling the old incarnation's message must not give the new one extra credit
    q.apply({ kind: 'settle', consumerId: 'a', msgIds: [1] });
    assert.deepEqual(delivered(enqueueAll(q, ['3'])), []);
  });
});

describe('queue machine: single active consumer', () => {
  test('only the first consumer receives; on cancel the next in registration order takes over', () => {
    const q = machine({ 'x-single-active-consumer': true });
    assert.deepEqual(checkout(q, 'a', 0), [{ kind: 'consumerActivated', consumerId: 'a' }]);
    assert.deepEqual(checkout(q, 'b', 0), []);
    checkout(q, 'c', 0);
    assert.equal(q.activeConsumerId, 'a');
    assert.deepEqual(delivered(enqueueAll(q, ['1', '2'])), ['a:1', 'a:2']);
    const r = q.apply({ kind: 'cancel', consumerId: 'a' });
    assert.deepEqual(r.effects, [{ kind: 'consumerActivated', consumerId: 'b' }]);
    assert.deepEqual(delivered(enqueueAll(q, ['3'])), ['b:3']);
  });

  test('active consumer blocked on prefetch: others do not receive', () => {
    const q = machine({ 'x-single-active-consumer': true });
    checkout(q, 'a', 1);
    checkout(q, 'b', 0);
    assert.deepEqual(delivered(enqueueAll(q, ['1', '2', '3'])), ['a:1']);
    assert.equal(q.messageCount, 2);
  });

  test('down of the active consumer returns its messages to the next one, redelivered', () => {
    const q = machine({ 'x-single-active-consumer': true });
    checkout(q, 'a', 2);
    checkout(q, 'b', 5);
    enqueueAll(q, ['1', '2', '3']);
    const r = q.apply({ kind: 'down', consumerIds: ['a'], nowMs: 0 });
    assert.equal(r.effects[0]?.kind, 'consumerActivated');
    const ds = deliveries(r.effects);
    assert.deepEqual(ds.map((d) => `${d.consumerId}:${bodyOf(d.message)}:${d.redelivered}`), ['b:1:true', 'b:2:true', 'b:3:false']);
  });

  test('a higher-priority consumer takes over once the active one has no unacked messages', () => {
    const q = machine({ 'x-single-active-consumer': true });
    checkout(q, 'a', 0);
    enqueueAll(q, ['1']);
    assert.deepEqual(checkout(q, 'hi', 0, { priority: 5 }), []);
    assert.equal(q.activeConsumerId, 'a');
    assert.deepEqual(delivered(enqueueAll(q, ['2'])), []); // a is quiescing
    const r = q.apply({ kind: 'settle', consumerId: 'a', msgIds: [1] });
    assert.deepEqual(r.effects.map((e) => e.kind), ['consumerActivated', 'deliver']);
    assert.deepEqual(delivered(r.effects), ['hi:2']);
  });
});

describe('queue machine: return, discard, down, returnAll', () => {
  test('returned messages go back to their original position, redelivered, deliveryCount+1', () => {
    const q = machine();
    enqueueAll(q, ['1', '2', '3', '4', '5']);
    checkout(q, 'c', 3); // 1,2,3
    q.apply({ kind: 'cancel', consumerId: 'c' });
    q.apply({ kind: 'return', consumerId: 'c', msgIds: [3, 1], nowMs: 0 });
    assert.equal(q.messageCount, 4);
    const effects = checkout(q, 'd', 0);
    const ds = deliveries(effects);
    assert.deepEqual(ds.map((d) => bodyOf(d.message)), ['1', '3', '4', '5']);
    assert.deepEqual(ds.map((d) => d.redelivered), [true, true, false, false]);
    assert.deepEqual(ds.map((d) => d.deliveryCount), [1, 1, 0, 0]);
  });

  test('return frees credit and redelivers to the same consumer', () => {
    const q = machine();
    checkout(q, 'c', 1);
    enqueueAll(q, ['1', '2']);
    const r = q.apply({ kind: 'return', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.deepEqual(delivered(r.effects), ['c:1']);
    assert.equal(deliveries(r.effects)[0]?.redelivered, true);
  });

  test('discard without DLX drops; with DLX dead-letters as rejected', () => {
    const q = machine();
    checkout(q, 'c', 1);
    enqueueAll(q, ['1', '2']);
    const r = q.apply({ kind: 'discard', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.deepEqual(delivered(r.effects), ['c:2']);
    assert.equal(q.unackedCount, 1);

    const d = machine({ 'x-dead-letter-exchange': 'dlx' });
    checkout(d, 'c', 1);
    enqueueAll(d, ['1']);
    const r2 = d.apply({ kind: 'discard', consumerId: 'c', msgIds: [1], nowMs: 0 });
    assert.equal(r2.effects.length, 1);
    const e = r2.effects[0];
    assert.ok(e?.kind === 'deadLetter');
    assert.equal(e.reason, 'rejected');
    assert.equal(e.exchange, 'dlx');
    assert.equal(e.routingKey, 'rk');
  });

  test('down cancels and returns everything of those consumers; returnAll returns but keeps consuming', () => {
    const q = machine();
    checkout(q, 'a', 2);
    checkout(q, 'b', 2);
    enqueueAll(q, ['1', '2', '3', '4']); // a:1,3 b:2,4
    const r = q.apply({ kind: 'returnAll', consumerId: 'a', nowMs: 0 });
    assert.deepEqual(delivered(r.effects), ['a:1', 'a:3']);
    const r2 = q.apply({ kind: 'down', consumerIds: ['a', 'b'], nowMs: 0 });
    assert.deepEqual(r2.effects, []);
    assert.equal(q.consumerCount, 0);
    assert.equal(q.unackedCount, 0);
    assert.equal(q.messageCount, 4);
  });
});

describe('queue machine: get, purge, delete', () => {
  test('basic.get with ack checks out to the getter; noAck removes', () => {
    const q = machine();
    enqueueAll(q, ['1', '2', '3']);
    const g = q.apply({ kind: 'get', getterId: 'ch1', noAck: false, nowMs: 0 }).reply as GetReply;
    assert.ok(g.kind === 'message');
    assert.equal(bodyOf(g.message), '1');
    assert.equal(g.messageCount, 2);
    assert.equal(q.unackedCount, 1);
    const g2 = q.apply({ kind: 'get', getterId: 'ch1', noAck: true, nowMs: 0 }).reply as GetReply;
    assert.ok(g2.kind === 'message');
    assert.equal(g2.msgId, 2);
    assert.equal(q.unackedCount, 1);
    q.apply({ kind: 'return', consumerId: 'ch1', msgIds: [g.msgId], nowMs: 0 });
    const g3 = q.apply({ kind: 'get', getterId: 'ch1', noAck: true, nowMs: 0 }).reply as GetReply;
    assert.ok(g3.kind === 'message');
    assert.equal(bodyOf(g3.message), '1');
    assert.equal(g3.redelivered, true);
    q.apply({ kind: 'get', getterId: 'ch1', noAck: true, nowMs: 0 });
    assert.deepEqual(q.apply({ kind: 'get', getterId: 'ch1', noAck: true, nowMs: 0 }).reply, { kind: 'empty' });
  });

  test('purge removes ready messages only', () => {
    const q = machine();
    checkout(q, 'c', 1);
    enqueueAll(q, ['1', '2', '3']);
    assert.equal(q.apply({ kind: 'purge' }).reply, 2);
    assert.equal(q.messageCount, 0);
    assert.equal(q.unackedCount, 1);
  });

  test('delete cancels consumers and reports the ready count', () => {
    const q = machine();
    checkout(q, 'a', 1);
    checkout(q, 'b', 1);
    enqueueAll(q, ['1', '2', '3']);
    const r = q.apply({ kind: 'delete' });
    assert.equal(r.reply, 1);
    assert.deepEqual(r.effects, [{ kind: 'consumerCancelled', consumerId: 'a' }, { kind: 'consumerCancelled', consumerId: 'b' }]);
    assert.equal(q.consumerCount, 0);
    assert.equal(q.unackedCount, 0);
  });

  test('effects can be collected into a caller-provided array', () => {
    const q = machine();
    checkout(q, 'c');
    const out: never[] = [];
    const r = q.apply({ kind: 'enqueue', message: msg('1'), nowMs: 0 }, out);
    assert.equal(r.effects, out);
    assert.equal(out.length, 1);
  });

  test('down with a getter id returns its basic.get messages', () => {
    const q = machine();
    enqueueAll(q, ['1', '2']);
    q.apply({ kind: 'get', getterId: 'ch9', noAck: false, nowMs: 0 });
    assert.equal(q.unackedCount, 1);
    q.apply({ kind: 'down', consumerIds: ['ch9'], nowMs: 0 });
    assert.equal(q.unackedCount, 0);
    assert.deepEqual(delivered(checkout(q, 'c')), ['c:1', 'c:2']);
  });
});
