// Merging the owners' QueueStats answers on a frontend (src/cluster/queue-stats.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeAnswers, queueKey, type OwnerAnswer } from '../../../src/cluster/queue-stats.js';

const st = (messages: number) => ({ messages, unacked: 0, consumers: 0, bytes: messages * 10 });
const q = (name: string) => ({ vhost: '/', name });

test('mergeAnswers: the newer answer wins a queue and its partition; stale answers are dropped and their owner is not online', () => {
  const answers = new Map<number, OwnerAnswer>([
    [1, { at: 1_000, entries: [{ ref: q('a'), partition: 4, stats: st(1), diskBytes: 10 }, { ref: q('t'), partition: 0, stats: st(9), diskBytes: 0 }] }],
    [2, { at: 1_500, entries: [{ ref: q('a'), partition: 4, stats: st(2), diskBytes: 20 }] }], // partition 4's leader moved to owner 2
    [3, { at: 100, entries: [{ ref: q('b'), partition: 5, stats: st(3), diskBytes: 30 }] }],
  ]);
  const m = mergeAnswers(answers, 2_000, 1_500);
  assert.deepEqual(m.queues.get(queueKey(q('a'))), { entry: { ref: q('a'), partition: 4, stats: st(2), diskBytes: 20 }, owner: 2 });
  assert.equal(m.queues.get(queueKey(q('t')))?.owner, 1);
  assert.equal(m.queues.has(queueKey(q('b'))), false, "owner 3's answer is older than staleMs");
  assert.deepEqual([...m.leaders], [[4, 2]]);
  assert.deepEqual([...m.online].sort(), [1, 2]);
});
