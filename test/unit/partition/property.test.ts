// Property tests over random workloads (fast-check):
//  - accounting: every stored message ends exactly one way or is still present, and the records on
//    "disk" are exactly the present messages plus dead-letters in flight (checked after every apply);
//  - determinism: two machines applying the same log agree on results, effects and keys;
//  - recovery: a machine rebuilt from the keys at any point (a restarted replica, or one that
//    installed a snapshot) continues exactly like the one that wrote them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryAppStore } from '../../../src/partition/memory.js';
import { PartitionMachine, type ApplyOptions } from '../../../src/partition/machine.js';
import type { ApplyOutput, PartitionCommand } from '../../../src/partition/types.js';
import { encodeBatch } from '../../../src/partition/codec.js';
import { Harness, observable } from './helpers.js';
import { Resolver, workloadArb, type Workload } from './random.js';

const RUNS = Number(process.env['PARTITION_PROPERTY_RUNS'] ?? 120);

/** Runs a workload through a checked harness; returns the resolved entries. */
async function runChecked(w: Workload): Promise<{ h: Harness; entries: PartitionCommand[][] }> {
  const h = new Harness();
  const r = new Resolver(w.profiles);
  const entries: PartitionCommand[][] = [r.declares()];
  await h.apply(entries[0] as PartitionCommand[]);
  for (const ops of w.entries) {
    const cmds = ops.map((op) => r.resolve(h.machine, op));
    entries.push(cmds);
    await h.apply(cmds);
  }
  return { h, entries };
}

test('accounting: every stored message ends exactly one way or is present; disk == present + in-flight dead-letters', async () => {
  await fc.assert(fc.asyncProperty(workloadArb, async (w) => {
    const { h } = await runChecked(w);
    // Wind everything down: sessions gone, dead-letters confirmed, queues deleted. Then every
    // stored message has ended and nothing of a message is left on disk.
    const m = h.machine;
    const down: PartitionCommand[] = ['s0', 's1', 's2'].map((session) => ({ kind: 'sessionDown', session, nowMs: 0 }));
    await h.apply(down);
    await h.apply(m.queueIds().map((queue) => ({ kind: 'deadLettered', queue, msgIds: m.deadLetterIds(queue), nowMs: 0 })));
    await h.apply(m.queueIds().map((queue) => ({ kind: 'delete', queue, nowMs: 0 })));
    const t = h.checker.tally;
    assert.equal(h.checker.presentIds().size, 0);
    assert.equal(t.settled + t.autoAcked + t.deadLettered + t.dropped + t.purged + t.deleted, t.stored);
    const left = h.store.dump().map(([k]) => Buffer.from(k, 'hex').toString('latin1'));
    assert.deepEqual(left.filter((k) => k !== 'm/partition' && !k.startsWith('m/dedupe/')), []);
  }), { numRuns: RUNS });
});

function comparable(o: ApplyOutput): unknown {
  // Outcome order inside one command may follow a map's history (queue delete walks checked-out
  // messages in checkout order); the set of outcomes is what must agree.
  const key = (x: { queue: number; msgId: number }): string => `${x.queue}:${x.msgId}`;
  return { ...o, outcomes: [...o.outcomes].sort((a, b) => key(a).localeCompare(key(b))) };
}

async function applyTo(m: PartitionMachine, store: MemoryAppStore, cmds: PartitionCommand[], opts?: ApplyOptions): Promise<ApplyOutput> {
  const batch = store.batch();
  const out = await m.apply([encodeBatch(cmds)], batch, opts);
  batch.commit();
  return out;
}

test('determinism: the same log on two machines gives the same results, effects and keys', async () => {
  await fc.assert(fc.asyncProperty(workloadArb, async (w) => {
    const { h, entries } = await runChecked(w);
    const m = new PartitionMachine({ trackOutcomes: true });
    const store = new MemoryAppStore();
    const replay: ApplyOutput[] = [];
    for (const cmds of entries) replay.push(await applyTo(m, store, cmds));
    const again = new PartitionMachine({ trackOutcomes: true });
    const store2 = new MemoryAppStore();
    for (const [i, cmds] of entries.entries()) assert.deepEqual(await applyTo(again, store2, cmds), replay[i]);
    assert.deepEqual(store.dump(), h.store.dump());
    assert.deepEqual(store2.dump(), store.dump());
    assert.deepEqual(observable(m), observable(h.machine));
  }), { numRuns: Math.ceil(RUNS / 2) });
});

test('a follower (no effects built, no records read) applies the same log to the same results, keys and state', async () => {
  await fc.assert(fc.asyncProperty(workloadArb, async (w) => {
    const { entries } = await runChecked(w);
    const leader = new PartitionMachine();
    const leaderStore = new MemoryAppStore();
    const m = new PartitionMachine();
    const store = new MemoryAppStore();
    for (const cmds of entries) {
      const a = await applyTo(leader, leaderStore, cmds);
      const b = await applyTo(m, store, cmds, { effects: false, readRecords: false });
      assert.deepEqual(b.effects, []);
      assert.deepEqual(b.results, a.results);
    }
    assert.deepEqual(store.dump(), leaderStore.dump());
    assert.deepEqual(observable(m), observable(leader));
  }), { numRuns: Math.ceil(RUNS / 2) });
});

test('recovery: a machine rebuilt from the keys at any point continues exactly like the original', async () => {
  await fc.assert(fc.asyncProperty(workloadArb, fc.nat(), async (w, cutSeed) => {
    const { entries } = await runChecked(w);
    const cut = 1 + (cutSeed % entries.length);
    const m = new PartitionMachine({ trackOutcomes: true });
    const store = new MemoryAppStore();
    for (const cmds of entries.slice(0, cut)) await applyTo(m, store, cmds);
    // The "other replica": recovers from a copy of the keys (a snapshot is exactly these keys).
    const copy = new MemoryAppStore();
    for (const [k, v] of store.entries) copy.entries.set(k, v);
    const r = new PartitionMachine({ trackOutcomes: true });
    await r.recover(copy);
    assert.deepEqual(observable(r), observable(m));
    assert.deepEqual(r.resumeEffects(), m.resumeEffects());
    for (const cmds of entries.slice(cut)) {
      const a = await applyTo(m, store, cmds);
      const b = await applyTo(r, copy, cmds);
      assert.deepEqual(comparable(b), comparable(a));
    }
    assert.deepEqual(copy.dump(), store.dump());
    assert.deepEqual(observable(r), observable(m));
  }), { numRuns: RUNS });
});
