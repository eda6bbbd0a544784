// The `flow` command: the frontend pauses a consumer whose socket is congested and resumes it on drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkout, delivered, enqueueAll, machine } from './helpers.js';

test('a paused consumer gets nothing; resuming drains the backlog to it in order', () => {
  const q = machine();
  checkout(q, 'a', 0, { noAck: true });
  q.apply({ kind: 'flow', consumerId: 'a', active: false });
  assert.deepEqual(delivered(enqueueAll(q, ['1', '2', '3'])), []);
  assert.equal(q.messageCount, 3);
  const { effects } = q.apply({ kind: 'flow', consumerId: 'a', active: true });
  assert.deepEqual(delivered(effects), ['a:1', 'a:2', 'a:3']);
  assert.equal(q.messageCount, 0);
});

test('while one consumer is paused, the others take its share', () => {
  const q = machine();
  checkout(q, 'a', 0, { noAck: true });
  checkout(q, 'b', 0, { noAck: true });
  q.apply({ kind: 'flow', consumerId: 'a', active: false });
  assert.deepEqual(delivered(enqueueAll(q, ['1', '2'])), ['b:1', 'b:2']);
});

test('flow for an unknown consumer or a repeated state is a no-op', () => {
  const q = machine();
  checkout(q, 'a', 0, { noAck: true });
  assert.deepEqual(q.apply({ kind: 'flow', consumerId: 'zz', active: false }).effects, []);
  assert.deepEqual(q.apply({ kind: 'flow', consumerId: 'a', active: true }).effects, []);
});
