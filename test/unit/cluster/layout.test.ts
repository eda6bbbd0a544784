// The placement a configuration gives (the metadata leader's bootstrap proposal) and the check of a
// node's configuration against the stored record (src/cluster/layout.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutOf, placementFromConfig, placementMismatch, VNODES } from '../../../src/cluster/layout.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import { placement } from '../../../src/placement/index.js';

const owners = [{ id: 3, address: 'h3:25672' }, { id: 1, address: 'h1:25672' }, { id: 2, address: 'h2:25672' }];

test('the bootstrap record is src/placement\'s placement of the configured owners, epoch 1, accepted by the machine', () => {
  const r = placementFromConfig(owners, 16, 3);
  assert.equal(r.epoch, 1);
  assert.deepEqual(r.owners.map((o) => o.id), [1, 2, 3], 'sorted by id');
  assert.deepEqual([r.partitions, r.replicationFactor, r.vnodes], [16, 3, VNODES]);
  const expected = placement(['1', '2', '3'], 16, 3, VNODES);
  assert.deepEqual(r.replicas, expected.partitions.map((p) => p.replicas.map(Number)));
  assert.equal(placementFromConfig(owners.slice(0, 2), 4, 3).replicationFactor, 2, 'R = min(replication, owners)');
  const m = new MetaMachine();
  m.apply({ type: 'placement.set', placement: r });
  const layout = layoutOf(m.placement!);
  assert.deepEqual(layout.replicas(1), r.replicas[0]);
  assert.deepEqual(layout.replicas(17), []);
  assert.equal(layout.addressOf(2), 'h2:25672');
});

test('a node runs only with the stored owners, addresses and partition count', () => {
  const stored = placementFromConfig(owners, 16, 3);
  assert.equal(placementMismatch(stored, [...owners].reverse(), 16), undefined, 'order does not matter');
  const extra = placementMismatch(stored, [...owners, { id: 4, address: 'h4:25672' }], 16);
  assert.match(extra ?? '', /owners 1=h1:25672,2=h2:25672,3=h3:25672,4=h4:25672 \(stored: 1=h1:25672,2=h2:25672,3=h3:25672\)/);
  assert.match(extra ?? '', /Membership changes are not supported yet/);
  assert.match(placementMismatch(stored, owners.map((o) => (o.id === 2 ? { ...o, address: 'h2:1' } : o)), 16) ?? '', /2=h2:1/);
  assert.match(placementMismatch(stored, owners, 8) ?? '', /8 partitions \(stored: 16\)/);
});
