// BatchPipeline: several batches in flight; after a failure nothing new is sent until every
// batch in flight was answered, and the failed batches are resent one at a time in order, so a
// partition that keeps only the highest seq never sees a later seq before an earlier one it lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchPipeline } from '../../../src/cluster/batch-pipeline.js';

class Retryable extends Error {}

interface Sent {
  readonly items: readonly number[];
  answer(r: readonly string[] | Error): void;
}

function pipeline(route: () => unknown = () => 'leader'): { p: BatchPipeline<number, string>; sent: Sent[]; got: Map<number, string> } {
  const sent: Sent[] = [];
  const got = new Map<number, string>();
  const p = new BatchPipeline<number, string>({
    maxInFlight: 2, maxBatchItems: 2, failed: 'rejected', route,
    send: (items, answer) => sent.push({ items: [...items], answer }),
    retry: (err) => (err instanceof Retryable ? 0 : undefined),
  });
  return { p, sent, got };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
const ok = (s: Sent): void => s.answer(s.items.map(() => 'accepted'));

test('pipelines up to maxInFlight batches and keeps sending as they are answered', async () => {
  const { p, sent, got } = pipeline();
  for (let i = 1; i <= 6; i++) p.push(i, (r) => got.set(i, r));
  await tick();
  assert.deepEqual(sent.map((s) => s.items), [[1, 2], [3, 4]]);
  ok(sent[0]!);
  assert.deepEqual(sent.map((s) => s.items), [[1, 2], [3, 4], [5, 6]]);
  ok(sent[1]!);
  ok(sent[2]!);
  assert.deepEqual([...got.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r), Array(6).fill('accepted'));
});

test('after a failure: nothing new until in-flight batches are answered, then the failed ones in order, one at a time', async () => {
  const { p, sent, got } = pipeline();
  for (let i = 1; i <= 6; i++) p.push(i, (r) => got.set(i, r));
  await tick();
  sent[0]!.answer(new Retryable('dropped')); // batch [1,2] failed
  p.push(7, (r) => got.set(7, r));
  await tick();
  assert.equal(sent.length, 2, 'no new batch while recovering');
  sent[1]!.answer(new Retryable('dropped too')); // [3,4] failed as well
  await tick();
  assert.deepEqual(sent.slice(2).map((s) => s.items), [[1, 2]], 'the oldest failed batch alone');
  sent[2]!.answer(new Retryable('again'));
  await tick();
  assert.deepEqual(sent.slice(3).map((s) => s.items), [[1, 2]], 'the same batch again before any later one');
  ok(sent[3]!);
  await tick();
  assert.deepEqual(sent.slice(4).map((s) => s.items), [[3, 4]]);
  ok(sent[4]!);
  await tick();
  assert.deepEqual(sent.slice(5).map((s) => s.items), [[5, 6], [7]], 'pipelining resumes');
  ok(sent[5]!);
  ok(sent[6]!);
  assert.equal(got.size, 7);
  assert.ok([...got.values()].every((r) => r === 'accepted'));
});

test('a final error fails its batch only; a new route waits until in-flight batches are answered', async () => {
  let route = 'x';
  const { p, sent, got } = pipeline(() => route);
  for (let i = 1; i <= 2; i++) p.push(i, (r) => got.set(i, r));
  await tick();
  route = 'y';
  for (let i = 3; i <= 4; i++) p.push(i, (r) => got.set(i, r));
  await tick();
  assert.equal(sent.length, 1, 'not sent to y while a batch to x is in flight');
  sent[0]!.answer(new Error('refused for good'));
  await tick();
  assert.deepEqual([got.get(1), got.get(2)], ['rejected', 'rejected']);
  assert.deepEqual(sent.slice(1).map((s) => s.items), [[3, 4]]);
});
