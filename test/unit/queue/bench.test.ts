// Micro-benchmark: enqueue → deliver → settle in a tight loop. Prints ops/s; asserts only
// correctness (a timing assertion would be flaky on a shared machine). Bounded to ~200k messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueMachine } from '../../../src/queue/machine.js';
import { parseQueueArgs } from '../../../src/queue/args.js';
import type { DeliverEffect, Effect, QueueMessage } from '../../../src/queue/types.js';

const N = 200_000;
const message: QueueMessage = { exchange: '', routingKey: 'q', properties: {}, body: new Uint8Array(64) };

function run(label: string, args: Record<string, unknown>, prefetch: number, batch: number): void {
  const q = new QueueMachine('q', parseQueueArgs(args), 0);
  q.apply({ kind: 'checkout', consumerId: 'c', prefetch, priority: 0, noAck: false, nowMs: 0 });
  const effects: Effect[] = [];
  let delivered = 0;
  const pending: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    q.apply({ kind: 'enqueue', message, nowMs: i >> 10 }, effects);
    for (const e of effects) if (e.kind === 'deliver') { pending.push((e as DeliverEffect).msgId); delivered++; }
    effects.length = 0;
    if (pending.length >= batch) {
      q.apply({ kind: 'settle', consumerId: 'c', msgIds: pending.splice(0) }, effects);
      for (const e of effects) if (e.kind === 'deliver') { pending.push((e as DeliverEffect).msgId); delivered++; }
      effects.length = 0;
    }
  }
  q.apply({ kind: 'settle', consumerId: 'c', msgIds: pending.splice(0) }, effects);
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const e of effects) if (e.kind === 'deliver') delivered++;
  console.log(`queue bench ${label}: ${Math.round(N / elapsedS).toLocaleString('en-US')} msg/s (enqueue+deliver+settle, ${N} msgs)`);
  assert.ok(delivered > 0);
  assert.equal(delivered + q.messageCount, N);
}

test('bench: unlimited prefetch, settle per message', () => run('prefetch 0, ack each', {}, 0, 1));
test('bench: prefetch 100, settle in batches of 50', () => run('prefetch 100, ack x50', {}, 100, 50));
test('bench: priority queue + TTL', () => run('x-max-priority 10 + ttl', { 'x-max-priority': 10, 'x-message-ttl': 60000 }, 100, 50));

test('bench: 100k backlog drained by a prefetch-1000 consumer', () => {
  const q = new QueueMachine('q', parseQueueArgs({}), 0);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) q.apply({ kind: 'enqueue', message, nowMs: 0 });
  let ids = (q.apply({ kind: 'checkout', consumerId: 'c', prefetch: 1000, priority: 0, noAck: false, nowMs: 0 }).effects as DeliverEffect[]).map((d) => d.msgId);
  let total = ids.length;
  while (ids.length > 0) {
    ids = (q.apply({ kind: 'settle', consumerId: 'c', msgIds: ids }).effects as DeliverEffect[]).map((d) => d.msgId);
    total += ids.length;
  }
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`queue bench backlog: ${Math.round(100_000 / elapsedS).toLocaleString('en-US')} msg/s (100k enqueued, then drained)`);
  assert.equal(total, 100_000);
  assert.equal(q.messageCount + q.unackedCount, 0);
});
