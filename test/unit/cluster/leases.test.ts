// The metadata leader's lease deadlines (src/cluster/leases.ts), on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseKeeper } from '../../../src/cluster/leases.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { MetaCommand } from '../../../src/meta/types.js';

function setup() {
  const m = new MetaMachine();
  let now = 1_000;
  const proposed: MetaCommand[] = [];
  let term: number | undefined;
  const keeper = new LeaseKeeper({
    machine: () => m, now: () => now, leadingTerm: () => term,
    propose: async (cmd) => { proposed.push(cmd); m.apply(cmd); },
  });
  /** This replica leads `t` from now on (the keeper sees it at once). */
  const lead = (t: number): void => {
    term = t;
    assert.equal(keeper.isLeading, true);
  };
  return { m, keeper, proposed, lead, advance: (ms: number) => { now += ms; }, settle: () => new Promise((r) => setImmediate(r)) };
}

test('a lease renewed within its TTL lives; one not renewed is ended by the leader, once', async () => {
  const { m, keeper, proposed, lead, advance, settle } = setup();
  const live = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  const dead = m.apply({ type: 'session.open', frontend: 'b', ttlMs: 3_000 }).lease!;
  lead(1);
  for (let i = 0; i < 5; i++) {
    advance(1_000);
    assert.deepEqual(keeper.keepAlive(live), { kind: 'open', ttlMs: 3_000 });
    keeper.check();
    keeper.check();
    await settle();
  }
  assert.deepEqual(proposed, [{ type: 'session.end', lease: dead }], 'ended once, after its TTL');
  assert.equal(m.sessions.state(live), 'open');
  assert.deepEqual(keeper.keepAlive(dead), { kind: 'ended' }, 'its frontend hears it has ended');
  assert.deepEqual(keeper.keepAlive(99), { kind: 'unknown' });
});

test('a new leader starts every lease afresh; a follower ends nothing', async () => {
  const { m, keeper, proposed, lead, advance, settle } = setup();
  const lease = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  advance(10_000);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [], 'not leading: nothing proposed');
  lead(1);
  advance(2_900);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [], 'the TTL runs from the election, not from the last renewal the old leader saw');
  advance(200);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [{ type: 'session.end', lease }]);
});

test('a lease opened through the log while leading gets its TTL from when it is first seen', async () => {
  const { m, keeper, proposed, lead, advance, settle } = setup();
  lead(1);
  const lease = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  advance(60_000);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, []);
  advance(3_000);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [{ type: 'session.end', lease }]);
});

test('an end that does not commit is proposed again at the next check', async () => {
  const m = new MetaMachine();
  let now = 0;
  let fail = true;
  const proposed: MetaCommand[] = [];
  let term: number | undefined;
  const keeper = new LeaseKeeper({
    machine: () => m, now: () => now, leadingTerm: () => term,
    propose: async (cmd) => { proposed.push(cmd); if (fail) throw new Error('no quorum'); m.apply(cmd); },
  });
  const lease = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  term = 1;
  assert.equal(keeper.isLeading, true);
  now += 3_000;
  keeper.check();
  await new Promise((r) => setImmediate(r));
  fail = false;
  keeper.check();
  await new Promise((r) => setImmediate(r));
  assert.equal(proposed.length, 2);
  assert.equal(m.sessions.state(lease), 'ended');
});

test('leading again in a later term, even unseen in between, starts every lease afresh', async () => {
  const { m, keeper, proposed, lead, advance, settle } = setup();
  const lease = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  lead(1);
  advance(2_500); // meanwhile another replica led for a while and took the renewals
  lead(3);
  advance(2_500);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [], 'the deadline runs from the new term, not from term 1');
  advance(600);
  keeper.check();
  await settle();
  assert.deepEqual(proposed, [{ type: 'session.end', lease }]);
});

test('a leader whose checks stalled (paused, starved) moves the deadlines on by the stall instead of ending live leases', async () => {
  const m = new MetaMachine();
  let now = 0;
  const proposed: MetaCommand[] = [];
  let term: number | undefined;
  const keeper = new LeaseKeeper({
    machine: () => m, now: () => now, checkEveryMs: 500, leadingTerm: () => term,
    propose: async (cmd) => { proposed.push(cmd); m.apply(cmd); },
  });
  const lease = m.apply({ type: 'session.open', frontend: 'a', ttlMs: 3_000 }).lease!;
  term = 1;
  assert.equal(keeper.isLeading, true);
  keeper.check();
  now += 500;
  keeper.check();
  now += 10_000; // this process did not run for 10 s: renewals sat unread
  keeper.check();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(proposed, [], 'not ended for the leader\'s own pause');
  assert.deepEqual(keeper.keepAlive(lease), { kind: 'open', ttlMs: 3_000 }, 'the queued renewal is read next');
  // A frontend that really is gone is still ended, one TTL after its last renewal.
  for (let t = 0; t < 3_000; t += 500) {
    now += 500;
    keeper.check();
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(proposed, [{ type: 'session.end', lease }]);
});
