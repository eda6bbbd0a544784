// The placement record in the metadata state (src/meta/placement.ts): epoch 1 is accepted once, then
// only current + 1; anything else is refused with 406 and changes nothing; the record survives a
// snapshot, a restore, and the metadata group's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmqpError } from '../../../src/amqp/errors.js';
import { encodeMeta } from '../../../src/meta/codec.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { PlacementRecord } from '../../../src/meta/placement.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { MetaGroupApp } from '../../../src/node/meta-group.js';
import { recordsOf, snapshotFrom } from '../../../src/node/meta-records.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import type { AppReader } from '../../../src/raft/node/app.js';
import { MemoryKeys } from './helpers.js';

const record = (epoch: number, replicas: number[][] = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]): PlacementRecord => ({
  epoch,
  owners: [{ id: 1, address: '127.0.0.1:1' }, { id: 2, address: '127.0.0.1:2' }, { id: 3, address: '127.0.0.1:3' }],
  partitions: replicas.length, replicationFactor: 3, vnodes: 64, replicas,
});
const set = (p: PlacementRecord): MetaCommand => ({ type: 'placement.set', placement: p });

function refused(m: MetaMachine, cmd: MetaCommand, text: RegExp): void {
  const before = JSON.stringify(m.snapshot());
  assert.throws(() => m.apply(cmd), (err: unknown) => err instanceof AmqpError && err.replyCode === 406 && text.test(err.message));
  assert.equal(JSON.stringify(m.snapshot()), before, 'a refused placement changes nothing');
}

test('epoch 1 is accepted once; a stale or skipped epoch is refused; the next epoch replaces it', () => {
  const m = new MetaMachine();
  assert.equal(m.placement, undefined, 'a new machine has no placement');
  refused(m, set(record(2)), /no placement yet, the first is epoch 1/);
  refused(m, set(record(0)), /no placement yet/);
  m.apply(set(record(1)));
  assert.deepEqual(m.placement, record(1));
  refused(m, set(record(1, [[3, 2, 1], [1, 2, 3], [2, 1, 3]])), /stale placement epoch 1: the current epoch is 1, the next must be 2/);
  refused(m, set(record(3)), /stale placement epoch 3: the current epoch is 1/);
  assert.deepEqual(m.placement, record(1), 'the first record stands');
  const next = record(2, [[2, 1, 3], [2, 3, 1], [3, 1, 2]]);
  m.apply(set(next));
  assert.deepEqual(m.placement, next);
  refused(m, set(record(2)), /stale placement epoch 2/);
});

test('a record that is not a placement of its owners is refused', () => {
  const m = new MetaMachine();
  refused(m, set(record(1, [[1, 2, 4], [2, 3, 1], [3, 1, 2]])), /partition 1's replicas are not distinct owners/);
  refused(m, set(record(1, [[1, 1, 2], [2, 3, 1], [3, 1, 2]])), /partition 1's replicas/);
  refused(m, set({ ...record(1), partitions: 4 }), /3 replica sets for 4 partitions/);
  refused(m, set({ ...record(1), owners: [] }), /no owners/);
  refused(m, set({ ...record(1), owners: [{ id: 1, address: 'a' }, { id: 1, address: 'b' }] }), /listed twice/);
  assert.equal(m.placement, undefined);
});

test('the placement survives snapshot and restore, and a batch that fails leaves it as it was', () => {
  const m = new MetaMachine();
  m.apply(set(record(1)));
  const copy = MetaMachine.restore(m.snapshot());
  assert.deepEqual(copy.placement, record(1));
  refused(copy, set(record(1)), /stale/);
  assert.throws(() => copy.apply({ type: 'batch', commands: [set(record(2)), set(record(2))] }), /stale placement epoch 2/);
  assert.equal(copy.placement?.epoch, 1, 'all or nothing');
  // A machine restored from a state without a placement (an embedded broker's) has none.
  const { placement: _, ...without } = m.snapshot();
  assert.equal(MetaMachine.restore(without).placement, undefined);
});

test('the placement is stored under its own key: a replica restarted from the keys has it', async () => {
  let index = 0;
  const entry = (cmd: MetaCommand): Entry => ({ term: 1, index: ++index, type: EntryType.Normal, data: encodeMeta(cmd) });
  const keys = new MemoryKeys();
  const app = new MetaGroupApp(() => new MetaMachine());
  await app.recover({ appliedIndex: 0, store: keys as AppReader, reason: 'start' });
  const results = app.apply([entry(set(record(1))), entry(set(record(1))), entry(set(record(3)))], keys);
  assert.deepEqual(results[0], {});
  assert.ok(results[1] instanceof AmqpError && results[2] instanceof AmqpError, 'the stale and the skipped epoch are refused');
  assert.ok(keys.map.has('placement'));

  const replica = new MetaGroupApp(() => new MetaMachine());
  await replica.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.deepEqual(replica.machine.placement, record(1));

  app.apply([entry(set(record(2, [[3, 1, 2], [2, 3, 1], [1, 2, 3]])))], keys);
  const again = new MetaGroupApp(() => new MetaMachine());
  await again.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.equal(again.machine.placement?.epoch, 2);
  assert.deepEqual(again.machine.placement?.replicas[0], [3, 1, 2]);
  // The records round trip: keys → snapshot → keys.
  assert.deepEqual(recordsOf(snapshotFrom(recordsOf(app.machine.snapshot()))), recordsOf(app.machine.snapshot()));
});
