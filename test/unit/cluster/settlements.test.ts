// mergeSettlements: one item per run of consecutive settlements of the same target, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeSettlements } from '../../../src/cluster/settlements.js';

const ack = (consumer: string, id: number, kind = 1, queue = 'q') => ({ vhost: '/', queue, session: 's', consumer, kind, msgIds: [id] });

test('a run of acks of one consumer becomes one item with every msg id in order', () => {
  const merged = mergeSettlements([ack('c', 1), ack('c', 2), ack('c', 5)]);
  assert.deepEqual(merged, [{ vhost: '/', queue: 'q', session: 's', consumer: 'c', kind: 1, msgIds: [1, 2, 5] }]);
});

test('only consecutive items merge: an ack, a requeue and an ack of one consumer stay three', () => {
  const merged = mergeSettlements([ack('c', 1), ack('c', 2, 2), ack('c', 3)]);
  assert.deepEqual(merged.map((m) => [m.kind, m.msgIds]), [[1, [1]], [2, [2]], [1, [3]]]);
});

test('other consumers, queues, sessions or vhosts are other targets', () => {
  const items = [ack('a', 1), ack('b', 2), ack('b', 3, 1, 'r'), { ...ack('b', 4, 1, 'r'), session: 't' }, { ...ack('b', 5, 1, 'r'), session: 't', vhost: 'v' }];
  assert.deepEqual(mergeSettlements(items).map((m) => m.msgIds), [[1], [2], [3], [4], [5]]);
});

test('the input items are not modified', () => {
  const items = [ack('c', 1), ack('c', 2)];
  mergeSettlements(items);
  assert.deepEqual(items.map((i) => i.msgIds), [[1], [2]]);
});
