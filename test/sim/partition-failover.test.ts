// Issue 7 "Three replicas": a partition group of three replicas (the production PartitionApp and
// GroupDriver, simulated processes, disk and network), its leader killed three times under
// confirmed publishing and acked consuming: lost = 0, acks made after a failover succeed.
// Scenario and checks: test/sim/partition/failover.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFailover } from './partition/failover.js';

for (const seed of [1, 2, 3]) {
  test(`three replicas, leader killed three times (seed ${seed}): lost = 0, acks after each failover succeed`, { timeout: 120_000 }, async (t) => {
    const r = await runFailover(seed);
    t.diagnostic(`kills: ${r.kills.map((k) => `step ${k.step} n${k.leader} (${k.point})`).join('; ')}`);
    t.diagnostic(`confirmed ${r.confirmed}, received ${r.received}, lost ${r.lost}; acked after failover ${r.ackedAfterFailover}, ` +
      `redelivered after session loss ${r.redeliveredAfterSessionLoss}, confirmed after retry ${r.confirmedAfterRetry}; ${r.steps} steps`);
    assert.deepEqual(r.problems, [], r.problems.join('\n'));
    assert.equal(r.kills.length, 3);
    assert.equal(new Set(r.kills.map((k) => k.step)).size, 3);
    assert.equal(r.lost, 0);
    assert.ok(r.confirmed >= 100, `only ${r.confirmed} confirmed`);
    assert.equal(r.received, r.confirmed, 'every confirmed message reached a consumer (none expire, none are dropped here)');
    assert.ok(r.ackedAfterFailover >= 5, 'the consumer acked deliveries of the killed leader after the failover');
    assert.ok(r.redeliveredAfterSessionLoss + r.confirmedAfterRetry > 0);
  });
}
