// The placement's bootstrap in the metadata group over gRPC (issue 8): three owner replicas of group 0
// in this process (test/cluster/meta-owners.ts), each ready to propose epoch 1 while it leads. Exactly
// one placement is stored; every replica and a remote frontend's cache have it; Meta.GetPlacement
// answers it at the leader; a new leader does not propose another; and a stale epoch proposed
// through a frontend is refused with 406, changing nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AmqpError } from '../../src/amqp/errors.js';
import { placementFromConfig } from '../../src/cluster/layout.js';
import { META } from '../../src/rpc/contracts.js';
import { RpcChannel } from '../../src/rpc/server.js';
import { eventually, sleep, startOwners, type Cluster, type Frontend } from './meta-owners.js';

const PARTITIONS = 8;
let c: Cluster;
let fe: Frontend;

before(async () => {
  c = await startOwners(3, {}, { partitions: PARTITIONS, replication: 3 });
  fe = await c.frontend();
});
after(async () => c.close());

test('the leader stores epoch 1 once; replicas, caches and GetPlacement agree; a stale epoch is refused', { timeout: 60_000 }, async () => {
  const expected = placementFromConfig(c.addresses, PARTITIONS, 3);
  await eventually(() => c.owners.every((o) => o.replica.app.machine.placement !== undefined), 10_000, 'every replica has the placement');
  for (const o of c.owners) assert.deepEqual(o.replica.app.machine.placement, expected, `owner ${o.id}`);
  await eventually(() => fe.backend.machine.placement !== undefined, 10_000, 'the frontend cache has it');
  assert.deepEqual(fe.backend.machine.placement, expected);

  const leader = await c.leader();
  const ch = new RpcChannel(leader.address);
  try {
    const res = await ch.unary(META.getPlacement, {}, 5_000);
    assert.equal(res.error, null);
    assert.equal(Number(res.placement?.epoch), 1);
    assert.deepEqual(res.placement?.owners?.map((o) => [o.id, o.address]), c.addresses.map((o) => [String(o.id), o.address]));
    assert.deepEqual(res.placement?.partitions?.map((p) => [p.partition, p.replicas?.map(Number)]), expected.replicas.map((r, i) => [i + 1, r]));
  } finally {
    ch.close();
  }

  // Another proposal of epoch 1 (what a second bootstrap would send) is refused over the wire.
  await assert.rejects(fe.backend.apply({ type: 'placement.set', placement: { ...expected, replicas: [...expected.replicas].reverse() } }),
    (err: unknown) => err instanceof AmqpError && err.replyCode === 406 && /stale placement epoch 1/.test(err.message));

  // A new leader finds the placement stored and proposes nothing: still epoch 1, the same record.
  await leader.stop();
  const next = await c.leader();
  assert.notEqual(next.id, leader.id);
  await sleep(1_500); // three of the leader's bootstrap checks (every 500 ms)
  for (const o of c.owners.filter((x) => !x.stopped)) assert.deepEqual(o.replica.app.machine.placement, expected, `owner ${o.id} after the leader change`);
});
